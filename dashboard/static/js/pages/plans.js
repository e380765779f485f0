// Plans: the history of optimiser runs (status, solve time, fallback, KPIs against doing
// nothing), and for operators a button per domain to run it now.

import { api, dateTime, el, num } from "../util.js";
import { kpiRows } from "./plan-card.js";

const DOMAINS = ["energy", "mobility", "slots"];
const KEPT = 200;

function planRow(plan) {
  const body = plan.body || {};
  return el("tr", { "data-domain": plan.domain, "data-created": String(plan.created), "data-plan": body.plan || "" },
    el("td", {}, dateTime(plan.created)),
    el("td", {}, plan.domain),
    el("td", {}, el("span", { class: `pill ${plan.status}` }, plan.status)),
    el("td", { class: "num" }, num(body.solve_ms, 0)),
    el("td", {}, body.fallback ? "yes" : "no"),
    el("td", {}, el("table", { class: "kpis" }, el("tbody", {}, kpiRows(body.kpis)))),
  );
}

export default function plans(root, { state, session }) {
  const body = el("tbody");
  const runStatus = el("p", { id: "run-status", class: "muted" });
  const operator = session.role === "operator";
  const buttons = DOMAINS.map((domain) => el("button", {
    type: "button", class: "primary", "data-run": domain, disabled: !operator,
    title: operator ? `Run the ${domain} optimiser now` : "Only an operator may run the optimiser",
    onclick: () => trigger(domain),
  }, `Run ${domain} now`));
  root.append(
    el("section", { class: "panel" }, el("h2", {}, "Run the optimiser"),
      el("div", { class: "controls" }, buttons),
      operator ? null : el("p", { class: "muted" }, "Signed in as a viewer: runs need an operator token."),
      runStatus),
    el("section", { class: "panel" }, el("h2", {}, "Plan history"),
      el("table", { id: "plans" },
        el("thead", {}, el("tr", {}, ["Made", "Domain", "Status", "Solve ms", "Fallback", "KPIs against doing nothing"].map((h) => el("th", {}, h)))),
        body)),
  );
  const shown = new Set();
  let watching = null;

  function add(list, atTop) {
    const rows = list.filter((p) => !shown.has(`${p.domain}@${p.created}`));
    rows.forEach((p) => shown.add(`${p.domain}@${p.created}`));
    if (atTop) body.prepend(...rows.map(planRow));
    else body.append(...rows.map(planRow));
    while (body.children.length > KEPT) body.lastChild.remove();
  }

  async function watch(runId) {
    clearTimeout(watching);
    const runs = await api("/api/optimise/runs");
    const run = runs.find((r) => r.id === runId);
    if (!run) return;
    // The last line of its output says what it did (the plan it stored) or why it failed.
    const said = run.state === "running" ? "" : (run.output || "").trim().split("\n").pop();
    runStatus.textContent = `Run ${run.id} (${run.domain}): ${run.state}${run.exit_code !== null ? `, exit ${run.exit_code}` : ""}${said ? ` · ${said}` : ""}`;
    runStatus.dataset.state = run.state;
    if (run.state === "running") watching = setTimeout(() => watch(runId), 1000);
  }

  async function trigger(domain) {
    try {
      const run = await api(`/api/optimise/${domain}`, { method: "POST" });
      runStatus.textContent = `Run ${run.id} (${domain}) started`;
      runStatus.dataset.state = "running";
      watch(run.id);
    } catch (error) {
      runStatus.textContent = `Could not run ${domain}: ${error.detail || error.message}`;
      runStatus.dataset.state = "refused";
    }
  }

  api(`/api/plans?limit=${KEPT}`).then((list) => add(list, false)).catch(console.warn);
  return {
    update(changes) {
      const fresh = Object.values(changes?.plans || {}).sort((a, b) => a.created - b.created);
      for (const plan of fresh) add([plan], true);
    },
    unmount() {
      clearTimeout(watching);
    },
  };
}
