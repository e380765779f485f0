// Zone: what a zone's devices of one kind add up to over a window (its total power, its bikes
// available), from /api/zones/{zone}/history: raw readings for hours, rollups for days.

import { api, el } from "../util.js";
import { timeChart } from "../chart.js";

// [label, window (s), step (s)]: a few dozen to a couple of hundred points each.
const WINDOWS = [["6 hours", 21600, 300], ["7 days", 604800, 3600], ["90 days", 7776000, 86400]];
const AGGREGATES = [["sum over devices", "sum"], ["mean of devices", "mean"], ["lowest device", "min"], ["highest device", "max"], ["devices reporting", "devices"]];
// The attribute shown first for a kind, when it has one.
const HEADLINE = { feeder: "activePower", meter: "activePower", pv: "activePower", ev_charger: "powerConsumption", bike_station: "availableBikeNumber", air: "pm25", transit_counter: "boardings" };
const NOT_ATTRIBUTES = ["ts", "n", "devices"];

function select(id, options, value) {
  return el("select", { id }, options.map(([label, v]) => el("option", { value: String(v), selected: String(v) === String(value) }, label)));
}

function numericNames(points) {
  const names = new Set();
  for (const p of points) for (const [k, v] of Object.entries(p)) if (typeof v === "number" && !NOT_ATTRIBUTES.includes(k)) names.add(k);
  return [...names].sort();
}

// The kinds of the zone's devices as the live readings show them, the commonest first.
function kindsIn(state, zone) {
  const counts = new Map();
  for (const r of state.readings.values()) if (r.zone === zone) counts.set(r.kind, (counts.get(r.kind) || 0) + 1);
  return [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a) || a.localeCompare(b));
}

export default function zone(root, { state, session, args, query }) {
  const zoneId = args[0] || "";
  const names = new Map((session.territory?.zones || []).map((z) => [z.id, z.name]));
  const ids = [...new Set([...names.keys(), ...state.zones.keys()])].sort();
  const kinds = kindsIn(state, zoneId);
  const asked = query.get("kind");
  if (asked && !kinds.includes(asked)) kinds.unshift(asked);
  const zoneSelect = select("zone", ids.map((id) => [names.get(id) || id, id]), zoneId);
  const kindSelect = select("kind", kinds.map((k) => [k, k]), asked || kinds[0] || "");
  const windowSelect = select("window", WINDOWS.map(([label, span]) => [label, span]), query.get("window") || WINDOWS[0][1]);
  const aggregateSelect = select("aggregate", AGGREGATES, query.get("aggregate") || "sum");
  const attributeSelect = el("select", { id: "attribute", onchange: draw });
  const holder = el("div", { class: "chart" });
  const note = el("p", { class: "muted", id: "zone-history-note" });
  const title = zoneId ? `Zone ${names.get(zoneId) || zoneId}` : "Zone";
  root.append(
    el("section", { class: "panel" }, el("h2", {}, title),
      el("div", { class: "controls" },
        el("label", {}, "Zone", zoneSelect),
        el("label", {}, "Kind", kindSelect),
        el("label", {}, "Window", windowSelect),
        el("label", {}, "Figure", aggregateSelect),
        el("button", { type: "button", class: "primary", onclick: go }, "Show"),
        el("label", {}, "Attribute", attributeSelect))),
    el("section", { class: "panel", id: "zone-history" }, el("h2", {}, "History"), note, holder),
  );
  let chart = null;
  let points = [];

  function go() {
    const params = new URLSearchParams({ kind: kindSelect.value, window: windowSelect.value, aggregate: aggregateSelect.value });
    if (attributeSelect.value) params.set("attribute", attributeSelect.value);
    location.hash = `#/zone/${encodeURIComponent(zoneSelect.value)}?${params}`;
  }

  function chooseAttributes() {
    const found = numericNames(points);
    const wanted = attributeSelect.value || query.get("attribute") || HEADLINE[kindSelect.value];
    const chosen = found.includes(wanted) ? wanted : found[0];
    attributeSelect.replaceChildren(...found.map((n) => el("option", { value: n, selected: n === chosen }, n)));
  }

  function draw() {
    chart?.destroy();
    chart = null;
    holder.replaceChildren();
    const name = attributeSelect.value;
    if (!points.length || !name) return;
    const data = [points.map((p) => p.ts), points.map((p) => (typeof p[name] === "number" ? p[name] : null))];
    const span = Number(windowSelect.value);
    const xRange = () => [Date.now() / 1000 - span, Date.now() / 1000];
    const label = `${name} (${aggregateSelect.selectedOptions[0]?.textContent || aggregateSelect.value})`;
    chart = timeChart(holder, [{ label, points: points.length < 60 }], data, { xRange });
  }

  async function load() {
    if (!zoneId || !kindSelect.value) {
      note.textContent = zoneId ? "No device of this zone has reported yet." : "Choose a zone.";
      return;
    }
    const [, span, step] = WINDOWS.find(([, s]) => String(s) === windowSelect.value) || WINDOWS[0];
    const end = Date.now() / 1000;
    const params = new URLSearchParams({ kind: kindSelect.value, start: String(end - span), end: String(end), step: String(step), aggregate: aggregateSelect.value });
    try {
      const history = await api(`/api/zones/${encodeURIComponent(zoneId)}/history?${params}`);
      points = history.points;
      chooseAttributes();
      note.textContent = `${points.length} points of ${step} s over ${history.devices.length} ${history.kind} device(s)${history.devices_from === "readings" ? " (from the readings: not in the inventory)" : ""}.`;
      draw();
    } catch (error) {
      note.textContent = error.status === 404 ? "No such zone." : `History unavailable: ${error.message}`;
    }
  }

  requestAnimationFrame(load);
  return {
    unmount() {
      chart?.destroy();
    },
  };
}
