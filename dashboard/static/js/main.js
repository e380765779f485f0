// The console's shell: sign-in, the live connection, and a page per URL hash.

import { api, onUnauthorised, setToken, token } from "./util.js";
import { connect, disconnect, state, subscribe } from "./live.js";
import overview from "./pages/overview.js";
import mobility from "./pages/mobility.js";
import energy from "./pages/energy.js";
import slots from "./pages/slots.js";
import plans from "./pages/plans.js";
import alerts from "./pages/alerts.js";
import device from "./pages/device.js";
import zone from "./pages/zone.js";

const PAGES = { overview, mobility, energy, slots, plans, alerts, device, zone };

export const session = { role: null, territory: null };

let current = null;

function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, ...rest] = (path || "overview").split("/");
  const page = PAGES[name] || overview;
  current?.unmount?.();
  const view = document.getElementById("view");
  view.replaceChildren();
  view.dataset.page = name;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.page === name);
  }
  current = page(view, {
    state,
    session,
    args: rest.map(decodeURIComponent),
    query: new URLSearchParams(query),
  });
}

function showLogin(message = "") {
  disconnect();
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message;
  document.getElementById("token").focus();
}

async function start() {
  try {
    const who = await api("/api/whoami");
    session.role = who.role;
    session.territory = await api("/api/territory");
  } catch (error) {
    if (error.status === 401) return showLogin(token() ? "That token was refused." : "");
    // Too many refused tokens from this address (or requests for this token): say so.
    if (error.status === 429) return showLogin(`Not now: ${error.detail}. Try again later.`);
    document.getElementById("view").textContent = `The console cannot be reached: ${error.message}`;
    return;
  }
  document.getElementById("login").hidden = true;
  document.getElementById("who").textContent = session.role;
  document.getElementById("signout").hidden = false;
  connect(() => showLogin("Your token is no longer accepted."));
  route();
}

function updateAlertBadge() {
  let open = 0;
  for (const alert of state.alerts.values()) if (alert.state === "open") open += 1;
  document.getElementById("alert-count").textContent = open ? String(open) : "";
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  setToken(document.getElementById("token").value.trim());
  start();
});
document.getElementById("signout").addEventListener("click", () => {
  setToken(null);
  location.reload();
});
onUnauthorised(() => showLogin("Your token is no longer accepted."));
window.addEventListener("hashchange", route);
subscribe((changes) => {
  updateAlertBadge();
  current?.update?.(changes);
});
start();
