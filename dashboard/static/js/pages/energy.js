// Energy: per feeder, the load against its limit over the last hours and the planned hours
// (every per-feeder series the plan gives: load, base load, PV, EV charging, ...); and the
// EV sessions with their progress.

import { api, bar, clock, deviceLink, el, num } from "../util.js";
import { align, colour, slotTimes, timeChart } from "../chart.js";
import { planCard } from "./plan-card.js";

const WINDOW_S = 6 * 3600;
const STEP_S = 60;

function plannedSeries(plan, feederId) {
  const decisions = plan?.body?.decisions || {};
  const slotMinutes = Number(decisions.slot_minutes) || 15;
  const found = [];
  for (const [name, perFeeder] of Object.entries(decisions)) {
    // The limit is drawn once from the telemetry; set-points are per session, not per feeder.
    if (!name.endsWith("_kw") || name.includes("limit") || !perFeeder || typeof perFeeder !== "object") continue;
    const values = perFeeder[feederId];
    if (!Array.isArray(values)) continue;
    const xs = slotTimes(decisions.start ?? plan.created, slotMinutes, values.length);
    if (xs && xs.length) found.push({ label: `planned ${name.replace(/_kw$/, "").replace(/_/g, " ")}`, xs, ys: values, slotS: slotMinutes * 60 });
  }
  return found;
}

function feederPanel(reading, plan, measured) {
  const f = reading.fields;
  const holder = el("div", { class: "chart" });
  const panel = el("section", { class: "panel", "data-feeder": reading.device_id },
    el("h2", {}, deviceLink(reading.device_id), ` · ${reading.zone}`),
    el("p", { class: "load" }, `${num(f.activePower)} kW of ${num(f.powerLimit)} kW`),
    bar(f.activePower, f.powerLimit),
    holder);
  const series = [
    { label: "load (measured)", xs: measured.xs, ys: measured.ys },
    ...plannedSeries(plan, reading.device_id),
  ];
  // The axis runs from the start of the measured window to the end of the plan (or now),
  // whatever the data: a feeder with a single reading still gets an axis in hours.
  const now = Date.now() / 1000;
  const planEnd = Math.max(now, ...series.slice(1).map((s) => s.xs[s.xs.length - 1] + s.slotS));
  const limitXs = [...new Set([now - WINDOW_S, ...series.flatMap((s) => s.xs), planEnd])];
  series.push({ label: "limit", xs: limitXs, ys: limitXs.map(() => f.powerLimit) });
  requestAnimationFrame(() => {
    const chart = timeChart(holder, series.map((s, i) => ({
      label: s.label, dash: s.label.startsWith("planned") ? [6, 4] : s.label === "limit" ? [2, 2] : undefined,
      color: s.label === "limit" ? "#d23a3a" : s.label.startsWith("planned") ? colour(i + 3) : "#2f6fd0",
      points: s.label === "load (measured)" && s.xs.length < 30,
    })), align(series), { yLabel: "kW", xRange: [now - WINDOW_S, planEnd] });
    panel.chart = chart;
  });
  return panel;
}

function sessionRows(state, plan) {
  const setpoints = plan?.body?.decisions?.setpoints_kw || {};
  const chargers = [...state.readings.values()].filter((r) => r.kind === "ev_charger");
  chargers.sort((a, b) => (b.fields.requestedEnergy ?? -1) - (a.fields.requestedEnergy ?? -1) || a.device_id.localeCompare(b.device_id));
  const now = Date.now() / 1000;
  return chargers.slice(0, 300).map((r) => {
    const f = r.fields;
    const hoursLeft = f.departure ? Math.max(0, (f.departure - now) / 3600) : null;
    const needKw = hoursLeft ? (f.requestedEnergy || 0) / hoursLeft : null;
    const planned = setpoints[r.device_id];
    return el("tr", { "data-device": r.device_id },
      el("td", {}, deviceLink(r.device_id)),
      el("td", {}, f.feeder || "–"),
      el("td", {}, f.status),
      el("td", { class: "num" }, num(f.powerConsumption)),
      el("td", { class: "num" }, Array.isArray(planned) ? num(planned[0]) : "–"),
      el("td", { class: "num" }, f.requestedEnergy !== undefined ? num(f.requestedEnergy) : "–"),
      el("td", { class: "num" }, f.departure ? clock(f.departure) : "–"),
      el("td", { title: "average power still needed against the point's maximum" },
        needKw !== null ? bar(needKw, f.maxPower) : ""),
    );
  });
}

export default function energy(root, { state }) {
  const feedersHolder = el("div", { class: "row" });
  const sessionsBody = el("tbody");
  const planHolder = el("div");
  root.append(
    el("section", { class: "panel" }, el("h2", {}, "Last energy plan"), planHolder),
    feedersHolder,
    el("section", { class: "panel" }, el("h2", {}, "EV sessions"),
      el("table", { id: "sessions" },
        el("thead", {}, el("tr", {}, ["Charger", "Feeder", "Status", "kW now", "kW planned", "kWh wanted", "Leaves", "Need vs max"].map((h) => el("th", {}, h)))),
        sessionsBody)),
  );
  const measured = new Map(); // feeder id -> {xs, ys}
  let planStamp = null;
  let destroyed = false;

  function drawFeeders() {
    for (const panel of feedersHolder.children) panel.chart?.destroy();
    const feeders = [...state.readings.values()].filter((r) => r.kind === "feeder").sort((a, b) => a.device_id.localeCompare(b.device_id));
    feedersHolder.replaceChildren(...feeders.map((r) => feederPanel(r, state.plans.energy, measured.get(r.device_id) || { xs: [], ys: [] })));
    planStamp = state.plans.energy?.created ?? null;
  }

  async function loadHistory() {
    const end = Date.now() / 1000;
    const feeders = [...state.readings.values()].filter((r) => r.kind === "feeder");
    await Promise.all(feeders.map(async (r) => {
      try {
        const history = await api(`/api/devices/${encodeURIComponent(r.device_id)}/history?start=${end - WINDOW_S}&end=${end + 1}&step=${STEP_S}&aggregate=mean`);
        measured.set(r.device_id, { xs: history.points.map((p) => p.ts), ys: history.points.map((p) => p.activePower) });
      } catch (error) {
        console.warn(error);
      }
    }));
    if (!destroyed) drawFeeders();
  }

  function update(changes) {
    const now = Date.now() / 1000;
    let redraw = changes?.snapshot || (state.plans.energy?.created ?? null) !== planStamp;
    for (const r of changes?.readings || []) {
      if (r.kind !== "feeder") continue;
      const series = measured.get(r.device_id) || { xs: [], ys: [] };
      series.xs.push(r.ts);
      series.ys.push(r.fields.activePower);
      while (series.xs.length && series.xs[0] < now - WINDOW_S) {
        series.xs.shift();
        series.ys.shift();
      }
      measured.set(r.device_id, series);
      redraw = true;
    }
    if (redraw) drawFeeders();
    sessionsBody.replaceChildren(...sessionRows(state, state.plans.energy));
    const plan = state.plans.energy;
    planHolder.replaceChildren(plan ? planCard(plan) : el("p", { class: "muted" }, "No plan yet."));
  }

  update({});
  loadHistory();
  return {
    update,
    unmount() {
      destroyed = true;
      for (const panel of feedersHolder.children) panel.chart?.destroy();
    },
  };
}
