"""Benchmark the energy optimiser: solve time on 5,000 EV sessions over 96 slots, and the
online replay (model-predictive control) against the offline optimum at several limits.

Run `python bench/optimiser_energy.py` (add `--quick` for a smaller run). Prints the
figures and records them in docs/performance.md (section optimiser-energy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import markdown_table, record
from optimiser.energy import EnergyProblem, solve
from optimiser.energy.replay import ReplaySessions, offline_problem, replay

SLOTS = 96  # a day of 15-minute slots
SLOT_H = 0.25


def day_of_sessions(count: int, feeders: int, seed: int) -> list[dict[str, Any]]:
    """Home (evening to morning, 7.4 kW), work (day, 11 kW) and short stops (22 kW)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, count, p=[0.45, 0.35, 0.2])
    arrival = np.select(
        [kind == 0, kind == 1],
        [rng.normal(72, 8, count), rng.normal(34, 4, count)],
        rng.uniform(28, 84, count),
    )
    arrival = arrival.round().clip(0, SLOTS - 2).astype(int)
    dwell = np.select(
        [kind == 0, kind == 1],
        [rng.integers(16, 48, count), rng.integers(16, 40, count)],
        rng.integers(2, 8, count),
    )
    departure = np.minimum(arrival + dwell, SLOTS)
    power = np.select([kind == 0, kind == 1], [7.4, 11.0], 22.0)
    reachable = power * (departure - arrival) * SLOT_H
    energy = np.minimum(rng.uniform(5, 45, count), reachable * rng.uniform(0.5, 1.0, count))
    feeder = rng.integers(0, feeders, count)
    return [
        {
            "id": f"ev-{i}",
            "feeder": f"feeder-{feeder[i]}",
            "arrival_slot": int(arrival[i]),
            "departure_slot": int(departure[i]),
            "energy_kwh": round(float(energy[i]), 3),
            "max_power_kw": float(power[i]),
        }
        for i in range(count)
    ]


def base_profile(peak_kw: float) -> np.ndarray:
    """Homes and shops: an evening peak and a smaller late-morning one."""
    t = np.arange(SLOTS)
    evening = np.exp(-(((t - 76) / 10.0) ** 2))
    morning = np.exp(-(((t - 36) / 8.0) ** 2))
    return peak_kw * (0.55 + 0.45 * evening + 0.15 * morning)


def city_problem(sessions: int, feeders: int, seed: int, servable_headroom: float) -> EnergyProblem:
    """The solve-time instance: tariff, carbon, PV, a battery per feeder, limits set so
    the feeders are tight in the evening."""
    rng = np.random.default_rng(seed + 1)
    day = day_of_sessions(sessions, feeders, seed)
    t = np.arange(SLOTS)
    solar = np.clip(np.sin((t - 28) / 48 * np.pi), 0, None)
    feeder_specs, batteries = [], []
    for k in range(feeders):
        fid = f"feeder-{k}"
        demand_kw = sum(s["energy_kwh"] for s in day if s["feeder"] == fid) / (SLOTS * SLOT_H)
        base = base_profile(rng.uniform(40, 80))
        feeder_specs.append(
            {
                "id": fid,
                "limit_kw": round(float(base.max() * 0.9 + servable_headroom * demand_kw), 2),
                "base_load_kw": base.round(2).tolist(),
                "pv_kw": (solar * rng.uniform(10, 60)).round(2).tolist(),
            }
        )
        batteries.append(
            {"id": f"battery-{k}", "feeder": fid, "capacity_kwh": 100, "soc_kwh": 50,
             "max_charge_kw": 30, "max_discharge_kw": 30, "efficiency": 0.95}
        )  # fmt: skip
    hour = t // 4
    tariff = 0.15 + 0.10 * ((hour >= 7) & (hour < 22)) + 0.08 * ((hour >= 17) & (hour < 20))
    carbon = 80 + 120 * np.exp(-(((t - 76) / 12.0) ** 2)) - 40 * solar
    return EnergyProblem.model_validate(
        {
            "slot_minutes": 15,
            "horizon_slots": SLOTS,
            "feeders": feeder_specs,
            "sessions": day,
            "batteries": batteries,
            "tariff": tariff.round(4).tolist(),
            "carbon": carbon.round(1).tolist(),
            "carbon_price": 0.08,
        }
    )


def bench_solve(problem: EnergyProblem, objective: str, solver: str, repeats: int) -> list[object]:
    times, plan = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        plan = solve(problem, time_limit=60, mode=objective, solver=solver)
        times.append(time.perf_counter() - started)
    assert plan is not None
    body = plan.to_json()
    kpis = body["kpis"]
    row: list[object] = [
        objective,
        solver,
        f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})",
        plan.status,
        f"{kpis['delivered_kwh']['plan']:.0f} / {kpis['requested_kwh']:.0f}",
        f"{kpis['delivered_kwh']['baseline']:.0f}",
        f"{kpis['slots_over_limit']['plan']} / {kpis['slots_over_limit']['baseline']}",
        f"{kpis['cost']['plan']:.0f} / {kpis['cost']['baseline']:.0f}",
    ]
    print(f"solve {objective:8} {solver:5}: " + ", ".join(map(str, row[2:])), flush=True)
    return row


def max_deliverable_kwh(sessions: ReplaySessions, limit_kw: float) -> float:
    """Max-flow bound in watt-hours (rounded down), to place the limits quickly."""
    problem = offline_problem(sessions, limit_kw)
    n = len(problem.sessions)
    base = np.broadcast_to(np.asarray(sessions.base_load_kw, dtype=float), (SLOTS,))
    rows, cols, caps = [], [], []
    for i, s in enumerate(problem.sessions):
        rows.append(0)
        cols.append(2 + i)
        caps.append(int(s.energy_kwh * 1000))
        for t in range(s.arrival_slot, s.departure_slot):
            rows.append(2 + i)
            cols.append(2 + n + t)
            caps.append(int(s.max_power_kw * SLOT_H * 1000))
    for t in range(SLOTS):
        rows.append(2 + n + t)
        cols.append(1)
        caps.append(int(max(limit_kw - base[t], 0) * SLOT_H * 1000))
    size = 2 + n + SLOTS
    graph = csr_matrix((caps, (rows, cols)), shape=(size, size), dtype=np.int32)
    return maximum_flow(graph, 0, 1).flow_value / 1000


def limit_serving(sessions: ReplaySessions, share: float) -> float:
    """The lowest limit (0.1 kW steps) at which the offline optimum serves `share`."""
    requested = sum(int(s.energy_kwh * 1000) for s in sessions.sessions) / 1000
    low, high = 0.0, 100_000.0
    while high - low > 0.1:
        middle = (low + high) / 2
        if max_deliverable_kwh(sessions, middle) >= share * requested - 1e-9:
            high = middle
        else:
            low = middle
    return round(high, 1)


def bench_replay(sessions: ReplaySessions, share: float) -> list[object]:
    limit = limit_serving(sessions, share)
    started = time.perf_counter()
    report = replay(sessions, limit)
    seconds = time.perf_counter() - started
    greedy = replay(sessions, limit, objective="greedy")
    online, offline = report["online"], report["offline"]
    row: list[object] = [
        f"{share:.0%}",
        limit,
        f"{offline['delivered_pct']:.2f} %",
        f"{online['delivered_pct']:.2f} %",
        f"{100 * report['online_to_offline']:.3f} %",
        f"{online['served_pct']:.1f} % / {offline['served_pct']:.1f} %",
        f"{online['peak_kw']:.0f} / {offline['peak_kw']:.0f}",
        f"{100 * greedy['online_to_offline']:.3f} %",
        f"{seconds:.1f}",
    ]
    print(f"replay {share:.0%}: " + ", ".join(map(str, row[1:])), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller instances, fewer runs")
    parser.add_argument("--sessions", type=int, default=5000, help="sessions in the solve")
    parser.add_argument("--replay-sessions", type=int, default=2000, help="sessions replayed")
    args = parser.parse_args()
    sessions = 1000 if args.quick else args.sessions
    replayed = 300 if args.quick else args.replay_sessions
    repeats = 1 if args.quick else 3
    problem = city_problem(sessions, feeders=20, seed=1, servable_headroom=1.0)
    solve_rows = [
        bench_solve(problem, objective, solver, repeats)
        for objective in ("cost", "headroom")
        for solver in ("glop", "highs")
    ]
    day = ReplaySessions.model_validate(
        {
            "slot_minutes": 15,
            "horizon_slots": SLOTS,
            "base_load_kw": base_profile(replayed * 0.1).round(3).tolist(),
            "sessions": day_of_sessions(replayed, feeders=1, seed=2),
        }
    )
    replay_rows = [bench_replay(day, share) for share in (0.6, 0.7, 0.8, 0.9, 0.97, 1.0)]
    record("optimiser-energy", _markdown(sessions, replayed, solve_rows, replay_rows))


def _markdown(
    sessions: int, replayed: int, solve_rows: list[list[object]], replay_rows: list[list[object]]
) -> str:
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    solve_header = [
        "objective", "solver", "s per solve, median (range)", "status",
        "delivered / requested kWh", "uncontrolled kWh", "slots over limit plan / uncontrolled",
        "cost plan / uncontrolled",
    ]  # fmt: skip
    replay_header = [
        "servable", "limit kW", "offline delivered", "online delivered", "online / offline",
        "served online / offline", "peak kW online / offline", "greedy EDF online / offline",
        "replay s",
    ]  # fmt: skip
    return "\n\n".join(
        [
            "## Energy (`bench/optimiser_energy.py`)",
            f"{sessions} EV sessions over 96 slots of 15 min on 20 feeders, each with a "
            "battery, PV, a time-of-use tariff and carbon price; limits tight in the evening. "
            "One LP per feeder (feeders share nothing); the uncontrolled baseline charges "
            "every EV at full power on arrival.",
            markdown_table(solve_header, solve_rows),
            f"Online replay of {replayed} sessions on one feeder (evening base-load peak): "
            "each session known from its arrival slot, re-solved every slot, first slot "
            "applied. 'Servable' is the share of the requested energy the offline optimum "
            "(all sessions known) can deliver at that limit (max-flow). The greedy column "
            "replays earliest-departure-first without an LP, for comparison.",
            markdown_table(replay_header, replay_rows),
            f"Load average when the run ended: {load}; the machine is shared, so wall "
            "times include waiting for a core.",
        ]
    )


if __name__ == "__main__":
    main()
