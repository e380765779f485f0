// Mobility: stations by fill level, empty and full ones first; the current van routes with
// the load carried after each stop.

import { api, bar, clock, deviceLink, el, num } from "../util.js";
import { planCard } from "./plan-card.js";

const SHOWN = 300;

function stationState(f) {
  if (f.availableBikeNumber <= 0) return "empty";
  if (f.freeSlotNumber <= 0) return "full";
  return "ok";
}

// Empty and full first, then by how close to either end a station is.
function urgency(f) {
  const total = Math.max(1, f.totalSlotNumber);
  return Math.min(f.availableBikeNumber, f.freeSlotNumber) / total;
}

function stationRows(state) {
  const stations = [...state.readings.values()].filter((r) => r.kind === "bike_station");
  stations.sort((a, b) => urgency(a.fields) - urgency(b.fields) || a.device_id.localeCompare(b.device_id));
  return {
    total: stations.length,
    rows: stations.slice(0, SHOWN).map((r) => {
      const f = r.fields;
      const s = stationState(f);
      return el("tr", { "data-device": r.device_id },
        el("td", {}, deviceLink(r.device_id)),
        el("td", {}, r.zone),
        el("td", { class: "num bikes" }, String(f.availableBikeNumber)),
        el("td", { class: "num" }, String(f.freeSlotNumber)),
        el("td", { class: "num" }, String(f.totalSlotNumber)),
        el("td", {}, bar(f.availableBikeNumber, f.totalSlotNumber, s === "ok" ? "ok" : "warning")),
        el("td", {}, el("span", { class: `pill ${s === "ok" ? "ok" : "warning"}` }, s)),
        el("td", { class: "num" }, clock(r.ts)),
      );
    }),
  };
}

// Routes as the plan gives them: a list of {van, stops:[{station, load}]} or a mapping.
export function routesOf(plan) {
  const body = plan?.body || {};
  const raw = body.routes ?? body.decisions?.routes ?? [];
  const list = Array.isArray(raw) ? raw : Object.entries(raw).map(([van, stops]) => ({ van, stops }));
  return list.map((r) => ({ van: r.van ?? r.van_id ?? r.id ?? "van", stops: r.stops || [] }));
}

function routeRows(plan) {
  const routes = routesOf(plan);
  if (!routes.length) return [el("tr", {}, el("td", { colspan: 3, class: "muted" }, plan ? "No route in the last plan." : "No mobility plan yet."))];
  return routes.map((route) => {
    let carried = 0;
    const steps = route.stops.map((stop) => {
      carried += Number(stop.load) || 0;
      const sign = stop.load > 0 ? `+${stop.load}` : String(stop.load);
      return el("span", { class: "stop" }, deviceLink(stop.station), ` (${sign}, carrying ${carried})`);
    });
    const moved = route.stops.reduce((sum, s) => sum + Math.max(0, Number(s.load) || 0), 0);
    return el("tr", { "data-van": route.van },
      el("td", {}, route.van),
      el("td", { class: "num" }, num(moved, 0)),
      el("td", {}, steps.length ? steps.flatMap((s, i) => (i ? [" → ", s] : [s])) : "stays at the depot"),
    );
  });
}

// Stations a GBFS bridge found that the inventory does not list yet: shown as discovered,
// for an operator to add (`territory gbfs adopt`).
function discoveredRows(found) {
  return found.map((d) => el("tr", { "data-discovered": d.device.id },
    el("td", {}, d.device.id),
    el("td", {}, d.device.name || ""),
    el("td", {}, `${d.device.zone} (${d.zone_rule})`),
    el("td", { class: "num" }, String(d.device.capacity)),
    el("td", {}, d.source),
    el("td", {}, el("span", { class: "pill warning" }, d.status)),
  ));
}

async function showDiscovered(panel, body) {
  try {
    const found = await api("/api/discovered");
    body.replaceChildren(...discoveredRows(found));
    panel.hidden = found.length === 0;
  } catch (_) {
    panel.hidden = true; // an unreadable file must not break the page
  }
}

export default function mobility(root, { state }) {
  const stationsBody = el("tbody");
  const caption = el("p", { class: "muted" });
  const routesBody = el("tbody");
  const planHolder = el("div");
  const discoveredBody = el("tbody");
  const discovered = el("section", { class: "panel", id: "discovered", hidden: true },
    el("h2", {}, "Discovered stations, not yet in the inventory"),
    el("table", {},
      el("thead", {}, el("tr", {}, ["Device", "Name", "Zone", "Docks", "Seen in", "State"].map((h) => el("th", {}, h)))),
      discoveredBody));
  root.append(
    el("div", { class: "row" },
      el("section", { class: "panel" }, el("h2", {}, "Rebalancing routes"),
        el("table", { id: "routes" }, el("thead", {}, el("tr", {}, el("th", {}, "Van"), el("th", { class: "num" }, "Bikes moved"), el("th", {}, "Stops (load change, load after)"))), routesBody)),
      el("section", { class: "panel" }, el("h2", {}, "Last mobility plan"), planHolder)),
    el("section", { class: "panel" }, el("h2", {}, "Stations, emptiest and fullest first"), caption,
      el("table", { id: "stations" },
        el("thead", {}, el("tr", {}, ["Station", "Zone", "Bikes", "Free", "Docks", "Fill", "State", "At"].map((h) => el("th", {}, h)))),
        stationsBody)),
    discovered,
  );
  showDiscovered(discovered, discoveredBody);

  function render() {
    const { total, rows } = stationRows(state);
    stationsBody.replaceChildren(...rows);
    caption.textContent = total > SHOWN ? `${SHOWN} of ${total} stations shown.` : `${total} stations.`;
    const plan = state.plans.mobility;
    routesBody.replaceChildren(...routeRows(plan));
    planHolder.replaceChildren(plan ? planCard(plan) : el("p", { class: "muted" }, "No plan yet."));
  }
  render();
  return { update: render };
}
