// Time slots: per corridor or place, the load per slot before and after the plan, and the
// groups shifted; and each corridor's load now, from its passenger counters.

import { api, bar, el, num } from "../util.js";
import { timeChart } from "../chart.js";
import { planCard } from "./plan-card.js";

function capacityOf(body, resource) {
  const capacity = body.capacity?.[resource] ?? body.decisions?.capacity?.[resource];
  return capacity ?? null;
}

function resourcePanel(body, resource) {
  const before = body.load_before?.[resource] || [];
  const after = body.load_after?.[resource] || [];
  const slots = Math.max(before.length, after.length);
  const capacity = capacityOf(body, resource);
  const holder = el("div", { class: "chart" });
  const panel = el("section", { class: "panel", "data-resource": resource }, el("h2", {}, resource), holder);
  // uPlot wants an x axis: slot numbers, shown as times when the plan says when slot 0 starts.
  const t0 = Number(body.start ?? body.decisions?.start);
  const minutes = Number(body.slot_minutes ?? body.decisions?.slot_minutes ?? 15);
  const xs = Array.from({ length: slots }, (_, i) => (Number.isFinite(t0) ? t0 + i * minutes * 60 : i));
  const data = [xs, before, after];
  const series = [{ label: "before", color: "#677085", bars: true }, { label: "after", color: "#2f6fd0", bars: true }];
  if (capacity !== null) {
    data.push(xs.map((_, i) => (Array.isArray(capacity) ? capacity[i] : capacity)));
    series.push({ label: "capacity", color: "#d23a3a", dash: [4, 3] });
  }
  requestAnimationFrame(() => {
    panel.chart = timeChart(holder, series, data, { yLabel: "people" });
    if (!Number.isFinite(t0)) panel.chart.plot.setScale("x", { min: -0.5, max: slots - 0.5 });
  });
  return panel;
}

function shiftedRows(body) {
  const rows = (body.assignments || [])
    .filter((a) => Object.keys(a.slots || {}).some((slot) => Number(slot) !== a.preferred) || a.unassigned)
    .slice(0, 300);
  if (!rows.length) return [el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No group shifted."))];
  return rows.map((a) => el("tr", {},
    el("td", {}, a.group),
    el("td", { class: "num" }, String(a.size)),
    el("td", { class: "num" }, String(a.preferred)),
    el("td", {}, Object.entries(a.slots || {}).map(([slot, n]) => `${n} → slot ${slot}`).join(", ") + (a.unassigned ? `, ${a.unassigned} unassigned` : "")),
  ));
}

export default function slots(root, { state }) {
  const planHolder = el("div");
  const resources = el("div", { class: "row" });
  const shifted = el("tbody");
  const corridors = el("tbody");
  root.append(
    el("div", { class: "row" },
      el("section", { class: "panel" }, el("h2", {}, "Last time-slot plan"), planHolder),
      el("section", { class: "panel" }, el("h2", {}, "Corridors now (from passenger counters)"),
        el("table", { id: "corridors" }, el("thead", {}, el("tr", {}, ["Corridor", "Per slot", "Capacity", ""].map((h) => el("th", {}, h)))), corridors))),
    resources,
    el("section", { class: "panel" }, el("h2", {}, "Groups shifted"),
      el("table", { id: "shifted" }, el("thead", {}, el("tr", {}, ["Group", "People", "Asked slot", "Given"].map((h) => el("th", {}, h)))), shifted)),
  );
  let planStamp;
  let lastCorridors = 0;

  async function refreshCorridors() {
    lastCorridors = Date.now();
    try {
      const loads = await api("/api/corridors");
      corridors.replaceChildren(...(loads.length ? loads.map((c) => el("tr", { "data-corridor": c.corridor },
        el("td", {}, c.corridor),
        el("td", { class: "num" }, num(c.per_slot, 0)),
        el("td", { class: "num" }, c.capacity ? num(c.capacity, 0) : "–"),
        el("td", {}, c.capacity ? bar(c.per_slot, c.capacity) : ""))) : [el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No passenger counter."))]));
    } catch (error) {
      console.warn(error);
    }
  }

  function update() {
    if (Date.now() - lastCorridors > 5000) refreshCorridors();
    const plan = state.plans.slots;
    if ((plan?.created ?? null) === planStamp) return;
    planStamp = plan?.created ?? null;
    for (const panel of resources.children) panel.chart?.destroy();
    planHolder.replaceChildren(plan ? planCard(plan) : el("p", { class: "muted" }, "No plan yet."));
    const body = plan?.body || {};
    const names = [...new Set([...Object.keys(body.load_before || {}), ...Object.keys(body.load_after || {})])].sort();
    resources.replaceChildren(...names.map((name) => resourcePanel(body, name)));
    shifted.replaceChildren(...shiftedRows(body));
  }

  update();
  return {
    update,
    unmount() {
      for (const panel of resources.children) panel.chart?.destroy();
    },
  };
}
