// Device: any device's history over a chosen window and step, and its newest reading live.

import { api, dateTime, el, headline, num } from "../util.js";
import { timeChart } from "../chart.js";

const WINDOWS = [["15 min", 900], ["1 hour", 3600], ["6 hours", 21600], ["24 hours", 86400], ["7 days", 604800]];
const STEPS = [["raw", 0], ["10 s", 10], ["1 min", 60], ["5 min", 300], ["15 min", 900], ["1 hour", 3600]];
const AGGREGATES = ["mean", "min", "max", "last", "count"];

function select(id, options, value) {
  return el("select", { id }, options.map(([label, v]) => el("option", { value: String(v), selected: String(v) === String(value) }, label)));
}

function numericNames(points) {
  const names = new Set();
  for (const p of points) for (const [k, v] of Object.entries(p)) if (typeof v === "number" && !["ts", "seq", "n"].includes(k)) names.add(k);
  return [...names].sort();
}

export default function device(root, { state, args, query }) {
  const deviceId = args[0] || "";
  const ids = [...state.readings.keys()].sort();
  const input = el("input", { id: "device-id", list: "device-ids", value: deviceId, placeholder: "device id" });
  const windowSelect = select("window", WINDOWS, query.get("window") || 3600);
  const stepSelect = select("step", STEPS, query.get("step") || 0);
  const aggregateSelect = select("aggregate", AGGREGATES.map((a) => [a, a]), query.get("aggregate") || "mean");
  const latest = el("div", { id: "device-latest" });
  const holder = el("div", { class: "chart" });
  const note = el("p", { class: "muted", id: "history-note" });
  root.append(
    el("section", { class: "panel" }, el("h2", {}, deviceId ? `Device ${deviceId}` : "Device"),
      el("div", { class: "controls" },
        el("label", {}, "Device", input, el("datalist", { id: "device-ids" }, ids.map((id) => el("option", { value: id })))),
        el("label", {}, "Window", windowSelect),
        el("label", {}, "Step", stepSelect),
        el("label", {}, "Aggregate", aggregateSelect),
        el("button", { type: "button", class: "primary", onclick: go }, "Show")),
      latest),
    el("section", { class: "panel" }, el("h2", {}, "History"), note, holder),
  );
  let chart = null;
  let points = [];
  let names = [];

  function go() {
    const params = new URLSearchParams({ window: windowSelect.value, step: stepSelect.value, aggregate: aggregateSelect.value });
    location.hash = `#/device/${encodeURIComponent(input.value.trim())}?${params}`;
  }

  function showLatest() {
    const reading = state.readings.get(deviceId);
    if (!reading) {
      latest.replaceChildren(el("p", { class: "muted" }, deviceId ? "No reading of this device." : "Choose a device."));
      return;
    }
    latest.replaceChildren(
      el("p", { class: "headline" }, `${reading.kind} in ${reading.zone}: `, el("strong", { class: "value" }, headline(reading)), ` at ${dateTime(reading.ts)} (seq ${reading.seq})`),
      el("table", { class: "kpis" }, el("tbody", {}, Object.entries(reading.fields).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { class: "num" }, typeof v === "number" ? num(v, 3) : String(v)))))),
    );
  }

  function draw() {
    chart?.destroy();
    chart = null;
    holder.replaceChildren();
    if (!points.length) return;
    const data = [points.map((p) => p.ts), ...names.map((n) => points.map((p) => (typeof p[n] === "number" ? p[n] : null)))];
    // The axis is the window asked for, sliding with the clock as live readings come in.
    const span = Number(windowSelect.value);
    const xRange = () => [Date.now() / 1000 - span, Date.now() / 1000];
    chart = timeChart(holder, names.map((n) => ({ label: n, points: points.length < 60 })), data, { xRange });
  }

  async function load() {
    if (!deviceId) return;
    const span = Number(windowSelect.value), step = Number(stepSelect.value);
    const end = Date.now() / 1000;
    const params = new URLSearchParams({ start: String(end - span), end: String(end + 1), step: String(step), aggregate: aggregateSelect.value });
    try {
      const history = await api(`/api/devices/${encodeURIComponent(deviceId)}/history?${params}`);
      points = history.points;
      names = numericNames(points);
      note.textContent = `${points.length} ${step ? `${aggregateSelect.value} points of ${step} s` : "readings"}${history.truncated ? " (newest only)" : ""}.`;
      draw();
    } catch (error) {
      note.textContent = error.status === 404 ? "No history for this device." : `History unavailable: ${error.message}`;
    }
  }

  showLatest();
  requestAnimationFrame(load);
  return {
    update(changes) {
      const fresh = (changes?.readings || []).find((r) => r.device_id === deviceId);
      if (!fresh && !changes?.snapshot) return;
      showLatest();
      // Raw view: append the new reading and drop what left the window (bounded memory).
      if (fresh && Number(stepSelect.value) === 0 && points.length && fresh.ts > points[points.length - 1].ts) {
        points.push({ ts: fresh.ts, seq: fresh.seq, ...fresh.fields });
        const since = Date.now() / 1000 - Number(windowSelect.value);
        while (points.length && points[0].ts < since) points.shift();
        if (chart) chart.setData([points.map((p) => p.ts), ...names.map((n) => points.map((p) => (typeof p[n] === "number" ? p[n] : null)))]);
        else draw();
      }
    },
    unmount() {
      chart?.destroy();
    },
  };
}
