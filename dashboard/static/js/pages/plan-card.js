// One plan as a card: domain, status, when, solve time, fallback, and its KPIs against
// doing nothing.

import { dateTime, el, num } from "../util.js";

export function kpiRows(kpis) {
  return Object.entries(kpis || {}).map(([name, value]) => {
    if (value && typeof value === "object") {
      const parts = Object.entries(value).map(([k, v]) => `${k} ${typeof v === "number" ? num(v, 2) : v}`);
      return el("tr", {}, el("td", {}, name), el("td", { class: "num" }, parts.join(" · ")));
    }
    return el("tr", {}, el("td", {}, name), el("td", { class: "num" }, typeof value === "number" ? num(value, 2) : String(value)));
  });
}

export function planCard(plan) {
  const body = plan.body || {};
  return el("div", { class: "plan", "data-domain": plan.domain, "data-created": String(plan.created) },
    el("h3", {}, plan.domain, " ", el("span", { class: `pill ${plan.status}` }, plan.status)),
    el("p", { class: "muted" },
      `${dateTime(plan.created)} · solved in ${num(body.solve_ms, 0)} ms`,
      body.fallback ? " · fallback used" : ""),
    el("table", { class: "kpis" }, el("tbody", {}, kpiRows(body.kpis))),
  );
}
