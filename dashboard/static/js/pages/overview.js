// Overview: every zone on a schematic map with its headline figures, the last plan of each
// domain, and the newest reading of every device.

import { bar, clock, deviceLink, el, headline, num, svg } from "../util.js";
import { planCard } from "./plan-card.js";

function zoneRows(state, session) {
  const names = new Map((session.territory?.zones || []).map((z) => [z.id, z.name]));
  const ids = [...new Set([...names.keys(), ...state.zones.keys()])].sort();
  return ids.map((id) => {
    const z = state.zones.get(id) || { id, state: "ok" };
    return el("tr", { "data-zone": id },
      el("td", {}, el("a", { href: `#/zone/${encodeURIComponent(id)}` }, names.get(id) || id)),
      el("td", {}, el("span", { class: `pill ${z.state}` }, z.state)),
      el("td", { class: "num" }, z.bikes_capacity ? [`${num(z.bikes_available, 0)} / ${num(z.bikes_capacity, 0)}`, bar(z.bikes_available, z.bikes_capacity, "ok")] : "–"),
      el("td", { class: "num" }, z.feeder_limit_kw ? [`${num(z.feeder_load_kw, 0)} / ${num(z.feeder_limit_kw, 0)} kW`, bar(z.feeder_load_kw, z.feeder_limit_kw)] : "–"),
      el("td", { class: "num" }, z.corridor_capacity ? [`${num(z.corridor_load, 0)} / ${num(z.corridor_capacity, 0)}`, bar(z.corridor_load, z.corridor_capacity)] : z.corridor_load !== undefined ? num(z.corridor_load, 0) : "–"),
      el("td", {}, z.air ? `${z.air} (${num(z.pm25)})` : "–"),
    );
  });
}

function zoneMap(state, session) {
  const zones = session.territory?.zones || [];
  if (!zones.length) return el("p", { class: "muted" }, "No zones yet.");
  const xs = zones.map((z) => z.x), ys = zones.map((z) => z.y);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // Fit the zones in a 600 x 360 box whatever the territory's extent, labels staying legible.
  const scale = Math.min(600 / Math.max(maxX - minX, 0.1), 360 / Math.max(maxY - minY, 0.1)), pad = 70;
  const width = (maxX - minX) * scale + 2 * pad, height = (maxY - minY) * scale + 2 * pad;
  const map = svg("svg", { class: "map", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Zone map" });
  for (const zone of zones) {
    const figures = state.zones.get(zone.id) || { state: "ok" };
    // North up: a larger y is drawn higher.
    const cx = (zone.x - minX) * scale + pad, cy = height - ((zone.y - minY) * scale + pad);
    const link = svg("a", { href: `#/alerts?zone=${encodeURIComponent(zone.id)}` });
    link.append(
      svg("circle", { cx, cy, r: 22, class: figures.state, "data-zone": zone.id }),
      svg("text", { x: cx, y: cy + 38, "text-anchor": "middle" }, zone.name),
    );
    const line = [];
    if (figures.bikes_capacity) line.push(`${num(figures.bikes_available, 0)}/${num(figures.bikes_capacity, 0)} bikes`);
    if (figures.feeder_limit_kw) line.push(`${num(figures.feeder_load_kw, 0)}/${num(figures.feeder_limit_kw, 0)} kW`);
    if (line.length) link.append(svg("text", { x: cx, y: cy + 52, "text-anchor": "middle", class: "muted" }, line.join(" · ")));
    map.append(link);
  }
  return map;
}

function deviceRow(reading) {
  return el("tr", { "data-device": reading.device_id },
    el("td", {}, deviceLink(reading.device_id)),
    el("td", {}, reading.kind),
    el("td", {}, reading.zone),
    el("td", { class: "value" }, headline(reading)),
    el("td", { class: "num" }, clock(reading.ts)),
  );
}

export default function overview(root, { state, session }) {
  const mapPanel = el("section", { class: "panel" }, el("h2", {}, `Zones of ${session.territory?.name || "the territory"}`));
  const zonesBody = el("tbody");
  const zonesPanel = el("section", { class: "panel" }, el("h2", {}, "Headline figures"),
    el("table", { id: "zones" },
      el("thead", {}, el("tr", {}, ["Zone", "State", "Bikes", "Feeders", "Corridor / slot", "Air"].map((h) => el("th", {}, h)))),
      zonesBody));
  const plansPanel = el("section", { class: "panel" }, el("h2", {}, "Last plans"));
  const plansRow = el("div", { class: "row", id: "last-plans" });
  plansPanel.append(plansRow);
  const devicesBody = el("tbody");
  const devicesPanel = el("section", { class: "panel" }, el("h2", {}, "Devices"),
    el("table", { id: "devices" },
      el("thead", {}, el("tr", {}, ["Device", "Kind", "Zone", "Latest", "At"].map((h) => el("th", {}, h)))),
      devicesBody));
  const mapHolder = el("div");
  mapPanel.append(mapHolder);
  root.append(el("div", { class: "row" }, mapPanel, zonesPanel), plansPanel, devicesPanel);
  const rows = new Map();

  function renderDevices(readings, full) {
    if (full) {
      rows.clear();
      devicesBody.replaceChildren();
    }
    const added = [];
    for (const reading of readings) {
      const row = deviceRow(reading);
      const old = rows.get(reading.device_id);
      if (old) {
        old.replaceWith(row);
        if (!full) row.classList.add("flash");
      } else added.push(row);
      rows.set(reading.device_id, row);
    }
    if (added.length) {
      devicesBody.append(...added);
      const sorted = [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => row);
      devicesBody.replaceChildren(...sorted);
    }
  }

  function render(changes) {
    mapHolder.replaceChildren(zoneMap(state, session));
    zonesBody.replaceChildren(...zoneRows(state, session));
    const domains = Object.keys(state.plans).sort();
    plansRow.replaceChildren(...(domains.length ? domains.map((d) => planCard(state.plans[d])) : [el("p", { class: "muted" }, "No plan yet.")]));
    if (!changes || changes.snapshot) renderDevices([...state.readings.values()], true);
    else renderDevices(changes.readings || [], false);
  }

  render(null);
  return { update: render };
}
