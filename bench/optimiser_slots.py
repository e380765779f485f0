"""Benchmark the time-slot optimiser: a million people by min-cost flow, and CP-SAT on a
few hundred groups kept whole.

Run `python bench/optimiser_slots.py` (add `--quick` for a smaller run). Prints the
figures and records them in docs/performance.md (section optimiser-slots).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import tracemalloc
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import markdown_table, record
from optimiser.slots import SlotsProblem, SlotsSolution, solve, solve_file

RESOURCES = [  # id, kind, share of the people
    ("tram-north", "corridor", 0.30),
    ("tram-south", "corridor", 0.25),
    ("bus-ring", "corridor", 0.15),
    ("library", "place", 0.12),
    ("pool", "place", 0.10),
    ("station-bay", "charging_bay", 0.08),
]
SLOTS = 32  # 8 hours of 15-minute slots


def people_problem(
    people: int, seed: int, weights: np.ndarray, room: float = 0.05
) -> dict[str, Any]:
    """`people` individuals around two rush hours, each with a window of up to ±4 slots.

    `room` is each resource's capacity per slot as a share of its people: 0.05 holds
    everyone with shifts, less leaves some unassigned.
    """
    rng = np.random.default_rng(seed)
    shares = np.array([share for _, _, share in RESOURCES])
    resource_of = rng.choice(len(RESOURCES), people, p=shares)
    rush = np.where(rng.random(people) < 0.5, 8, 22)
    preferred = np.clip(np.rint(rng.normal(rush, 3)), 0, SLOTS - 1).astype(np.int64)
    earliest = np.clip(preferred - rng.integers(0, 5, people), 0, SLOTS - 1)
    latest = np.clip(preferred + rng.integers(0, 5, people), 0, SLOTS - 1)
    wave = 1 + np.sin(np.arange(SLOTS) / SLOTS * 2 * np.pi)
    resources = []
    for name, kind, share in RESOURCES:
        capacity = int(room * people * share)
        background = np.round(0.1 * capacity * wave, 1).tolist()
        resources.append({"id": name, "kind": kind, "capacity": capacity, "background": background})
    names = [name for name, _, _ in RESOURCES]
    return {
        "slots": SLOTS,
        "slot_minutes": 15,
        "resources": resources,
        "people": {
            "resource": [names[r] for r in resource_of.tolist()],
            "preferred": preferred.tolist(),
            "earliest": earliest.tolist(),
            "latest": latest.tolist(),
            "weight": rng.choice(weights, people).tolist(),
        },
    }


def check_people(problem: dict[str, Any], solution: SlotsSolution) -> bool:
    """Independent check with numpy: windows kept, no capacity exceeded."""
    people = problem["people"]
    slot = np.asarray(solution.people_slots)
    placed = slot >= 0
    earliest, latest = np.asarray(people["earliest"]), np.asarray(people["latest"])
    if np.any(placed & ((slot < earliest) | (slot > latest))):
        return False
    index = {spec["id"]: r for r, spec in enumerate(problem["resources"])}
    resource_of = np.fromiter(map(index.__getitem__, people["resource"]), np.int64)
    for r, spec in enumerate(problem["resources"]):
        load = np.bincount(slot[placed & (resource_of == r)], minlength=SLOTS)
        if np.any(load + np.asarray(spec["background"]) > spec["capacity"] + 1e-9):
            return False
    return True


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _solve_peak_mib(problem: SlotsProblem) -> float:
    """Memory allocated at the peak of one solve (tracemalloc, a separate untimed run)."""
    tracemalloc.start()
    solve(problem, 60)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _timed_solves(problem: SlotsProblem, repeats: int) -> list[tuple[float, float, SlotsSolution]]:
    """(wall ms, CPU ms, solution) of each run. The flow path is single-threaded, so its
    CPU time is what the wall time would be on an idle machine."""
    runs = []
    for _ in range(repeats):
        wall, cpu = perf_counter(), process_time()
        solution = solve(problem, 60)
        runs.append(((perf_counter() - wall) * 1000, (process_time() - cpu) * 1000, solution))
    return runs


def bench_people(
    label: str, people: int, weights: np.ndarray, room: float, repeats: int
) -> list[object]:
    data = people_problem(people, seed=1, weights=weights, room=room)
    started = perf_counter()
    problem = SlotsProblem.model_validate(data)
    validate_ms = (perf_counter() - started) * 1000
    runs = _timed_solves(problem, repeats)
    wall = [run[0] for run in runs]
    cpu = [run[1] for run in runs]
    first = runs[0][2]
    stages = sorted(runs, key=lambda run: run[0])[repeats // 2][2].stage_ms
    feasible = "yes" if check_people(data, first) else "NO"
    peak = _solve_peak_mib(problem)
    row: list[object] = [
        label,
        f"{people:,}",
        f"{first.distinct_groups:,}",
        f"{stages['group']:.0f}",
        f"{stages['build']:.0f}",
        f"{stages['solve']:.0f}",
        f"{stages['report']:.0f}",
        f"{statistics.median(wall):.0f} ({min(wall):.0f}-{max(wall):.0f})",
        f"{statistics.median(cpu):.0f}",
        f"{validate_ms:.0f}",
        first.status,
        f"{first.kpis.people_unassigned:,}",
        feasible,
        f"{peak:.0f}",
    ]
    print(
        f"{label}: {people:,} people -> {first.distinct_groups:,} groups; "
        f"group {stages['group']:.0f} ms, build {stages['build']:.0f} ms, "
        f"flow {stages['solve']:.0f} ms, report {stages['report']:.0f} ms; "
        f"solve() wall median {statistics.median(wall):.0f} ms over {repeats} runs "
        f"(first {wall[0]:.0f} ms), CPU median {statistics.median(cpu):.0f} ms; "
        f"validation {validate_ms:.0f} ms; {first.status}, "
        f"{first.kpis.people_unassigned:,} unassigned, feasible={feasible}, "
        f"peak allocation {peak:.0f} MiB",
        flush=True,
    )
    return row


def bench_file(people: int) -> list[object]:
    """The command-line path: JSON file -> parse -> validate -> solve -> plan dict."""
    data = people_problem(people, seed=2, weights=np.array([0.5, 1, 1.5, 2, 3]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "people.json"
        path.write_text(json.dumps(data))
        size_mib = path.stat().st_size / 2**20
        started = perf_counter()
        plan = solve_file(path, 60, None)
        total_ms = (perf_counter() - started) * 1000
    print(
        f"file: {people:,} people, {size_mib:.0f} MiB of JSON -> plan dict in {total_ms:.0f} ms "
        f"(solve {plan['solve_ms']:.0f} ms), {plan['status']}",
        flush=True,
    )
    return [
        f"{people:,}",
        f"{size_mib:.0f}",
        f"{total_ms:.0f}",
        f"{plan['solve_ms']:.0f}",
        plan["status"],
    ]


CP_RESOURCES = [
    ("tram-a", "corridor"),
    ("tram-b", "corridor"),
    ("museum", "place"),
    ("pool", "place"),
    ("bay", "charging_bay"),
]


def whole_groups_problem(groups: int, seed: int, room: float) -> dict[str, Any]:
    """Groups on one or two resources, 70 % kept whole, around two rush hours."""
    rng = np.random.default_rng(seed)
    demand = np.zeros(len(CP_RESOURCES))
    found = []
    for n in range(groups):
        used = sorted(rng.choice(len(CP_RESOURCES), int(rng.integers(1, 3)), replace=False))
        size = int(rng.integers(2, 40))
        rush = 8 if rng.random() < 0.5 else 22
        preferred = int(np.clip(rng.normal(rush, 3), 0, SLOTS - 1))
        found.append(
            {
                "id": f"g{n}",
                "size": size,
                "resources": [CP_RESOURCES[r][0] for r in used],
                "preferred": preferred,
                "earliest": max(0, preferred - int(rng.integers(0, 4))),
                "latest": min(SLOTS - 1, preferred + int(rng.integers(0, 4))),
                "weight": float(rng.choice([1, 2, 3])),
                "whole": bool(rng.random() < 0.7),
            }
        )
        demand[used] += size
    resources = [
        {"id": name, "kind": kind, "capacity": int(room * demand[r] / 12)}
        for r, (name, kind) in enumerate(CP_RESOURCES)
    ]
    return {"slots": SLOTS, "resources": resources, "groups": found}


def bench_cpsat(groups: int, room: float, seed: int, limit: float) -> list[object]:
    from optimiser.slots.greedy import greedy
    from optimiser.slots.instance import build_instance

    problem = SlotsProblem.model_validate(whole_groups_problem(groups, seed, room))
    instance = build_instance(problem)
    start = greedy(instance)
    solution = solve(problem, limit, mode="cpsat")
    bound = solution.best_bound
    gap = (
        "-"
        if bound is None or solution.objective == 0
        else f"{100 * (solution.objective - bound) / solution.objective:.1f} %"
    )
    label = "roomy" if room >= 0.8 else "scarce"
    row: list[object] = [
        groups,
        label,
        seed,
        solution.status,
        f"{solution.kpis.people_unassigned} / {solution.kpis.people}",
        "-" if solution.unassigned_bound is None else solution.unassigned_bound,
        f"{solution.objective:g}",
        "-" if bound is None else f"{bound:g}",
        gap,
        f"{start.unassigned_people(instance)} / {start.weighted_shift(instance):g}",
        f"{solution.solve_ms:.0f}",
    ]
    print(
        f"cpsat: {groups} groups ({label}, seed {seed}): {solution.status} in "
        f"{solution.solve_ms:.0f} ms, unassigned {row[4]} (bound {row[5]}), shift {row[6]}, "
        f"bound {row[7]}, gap {gap}; greedy {row[9]}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 people, fewer runs")
    parser.add_argument("--people", type=int, default=1_000_000, help="people per run")
    parser.add_argument("--cpsat-limit", type=float, default=10.0, help="CP-SAT seconds")
    args = parser.parse_args()
    people = 100_000 if args.quick else args.people
    repeats = 2 if args.quick else 3
    classes = np.array([0.5, 1, 1.5, 2, 3])
    fine = np.round(np.arange(0.5, 3.01, 0.1), 1)
    flow_rows = [
        bench_people("5 weight classes", people, classes, 0.05, repeats),
        bench_people("26 weight classes", people, fine, 0.05, repeats),
        bench_people("scarce capacity", people, classes, 0.03, repeats),
    ]
    file_row = bench_file(people)
    cp_rows = [
        bench_cpsat(groups, room, seed, args.cpsat_limit)
        for groups in ((100, 200) if args.quick else (200, 400))
        for room in (0.8, 0.5)
        for seed in (0, 1)
    ]
    rss = _rss_mib()
    print(f"peak RSS of the benchmark process: {rss:.0f} MiB")
    record("optimiser-slots", _markdown(flow_rows, file_row, cp_rows, rss, args.cpsat_limit))


def _markdown(
    flow_rows: list[list[object]],
    file_row: list[object],
    cp_rows: list[list[object]],
    rss: float,
    limit: float,
) -> str:
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    flow_header = [
        "case", "people", "groups", "group ms", "build ms", "flow ms", "report ms",
        "solve() wall ms, median (range)", "solve() CPU ms", "validate ms", "status",
        "unassigned", "feasible", "peak alloc MiB",
    ]  # fmt: skip
    cp_header = [
        "groups", "capacity", "seed", "status", "unassigned / people", "unassigned bound",
        "weighted shift", "shift bound", "shift gap", "greedy unassigned / shift", "ms",
    ]  # fmt: skip
    return "\n\n".join(
        [
            "## Time slots (`bench/optimiser_slots.py`)",
            "Min-cost flow on individual people (32 slots, 6 resources, windows of up to ±4 "
            "slots around two rush hours). `solve()` runs from a validated `SlotsProblem` to "
            "the full plan (every person's slot included); validation of the columns is "
            "listed apart. Feasibility is re-checked with numpy outside the solver.",
            markdown_table(flow_header, flow_rows),
            "Command-line path (`solve_file`: read JSON, validate, solve, plan as a dict):",
            markdown_table(["people", "JSON MiB", "total ms", "solve ms", "status"], [file_row]),
            f"CP-SAT on groups kept whole (70 %) or on two resources, {limit:g} s limit, "
            "against the greedy fallback:",
            markdown_table(cp_header, cp_rows),
            f"Peak RSS of the benchmark process: {rss:.0f} MiB. Load average when the run "
            f"ended: {load}; the machine is shared, so wall times include waiting for a "
            "core (the CPU column is the flow path's own time).",
        ]
    )


if __name__ == "__main__":
    main()
