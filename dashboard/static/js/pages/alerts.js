// Alerts: the open ones, live, and the recently cleared ones with their times; each links to
// its device.

import { api, dateTime, deviceLink, el } from "../util.js";

const KEPT_CLEARED = 200;

function alertRow(alert) {
  return el("tr", { "data-alert": alert.id, class: `alert-${alert.state}` },
    el("td", {}, el("span", { class: `pill ${alert.state === "open" ? alert.severity : "cleared"}` }, alert.state === "open" ? alert.severity : "cleared")),
    el("td", {}, alert.rule),
    el("td", {}, alert.message),
    el("td", {}, alert.zone || "–"),
    el("td", {}, alert.device_id ? deviceLink(alert.device_id) : "–"),
    el("td", { class: "num" }, dateTime(alert.raised)),
    el("td", { class: "num" }, alert.cleared ? dateTime(alert.cleared) : ""),
  );
}

function table(id, body) {
  return el("table", { id },
    el("thead", {}, el("tr", {}, ["", "Rule", "What", "Zone", "Device", "Raised", "Cleared"].map((h) => el("th", {}, h)))),
    body);
}

export default function alerts(root, { state, query }) {
  const zone = query.get("zone");
  const openBody = el("tbody");
  const clearedBody = el("tbody");
  const cleared = [];
  root.append(
    el("section", { class: "panel" },
      el("h2", {}, zone ? `Open alerts in ${zone} ` : "Open alerts ", zone ? el("a", { href: "#/alerts" }, "(all zones)") : null),
      table("open-alerts", openBody)),
    el("section", { class: "panel" }, el("h2", {}, "Recently cleared"), table("cleared-alerts", clearedBody)),
  );
  const wanted = (a) => !zone || a.zone === zone;

  function render() {
    const open = [...state.alerts.values()].filter(wanted).sort((a, b) => b.raised - a.raised);
    openBody.replaceChildren(...(open.length ? open.map(alertRow) : [el("tr", {}, el("td", { colspan: 7, class: "muted" }, "Nothing wrong."))]));
    clearedBody.replaceChildren(...cleared.filter(wanted).map(alertRow));
  }

  api("/api/alerts?state=cleared&limit=" + KEPT_CLEARED).then((list) => {
    cleared.push(...list);
    render();
  }).catch(console.warn);
  render();
  return {
    update(changes) {
      for (const alert of changes?.alerts || []) {
        if (alert.removed) cleared.unshift({ ...alert, removed: undefined });
      }
      cleared.splice(KEPT_CLEARED);
      render();
    },
  };
}
