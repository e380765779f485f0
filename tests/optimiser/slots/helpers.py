"""Independent checks of slots plans: written from the problem format alone, sharing no
code with optimiser.slots (plain Python for feasibility, scipy's HiGHS for optima)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

Problem = dict[str, Any]
KINDS = ("corridor", "place", "charging_bay")
Plan = dict[str, Any]


def approx(value: Any) -> Any:
    return pytest.approx(value, abs=1e-5)


@dataclass(frozen=True)
class Request:
    """One input request as the checks see it: a named group or one person."""

    resources: tuple[str, ...]
    size: int
    preferred: int
    earliest: int
    latest: int
    weight: float
    whole: bool


def requests(problem: Problem) -> list[Request]:
    """Named groups first, then one request per person, in input order."""
    found = []
    for group in problem.get("groups", []):
        preferred = group["preferred"]
        found.append(
            Request(
                resources=tuple(group["resources"]),
                size=group["size"],
                preferred=preferred,
                earliest=group.get("earliest", preferred),
                latest=group.get("latest", preferred),
                weight=group.get("weight", 1.0),
                whole=group.get("whole", False) and group["size"] > 1,
            )
        )
    people = problem.get("people") or {}
    for n, preferred in enumerate(people.get("preferred", [])):
        found.append(
            Request(
                resources=(people["resource"][n],),
                size=1,
                preferred=preferred,
                earliest=(people.get("earliest") or people["preferred"])[n],
                latest=(people.get("latest") or people["preferred"])[n],
                weight=(people.get("weight") or [1.0] * len(people["preferred"]))[n],
                whole=False,
            )
        )
    return found


def per_slot(value: float | list[float], slots: int) -> list[float]:
    return list(value) if isinstance(value, list) else [value] * slots


def room(problem: Problem) -> dict[str, list[int]]:
    """People the requests may add per resource and slot (whole people)."""
    slots = problem["slots"]
    return {
        r["id"]: [
            max(0, math.floor(c - b + 1e-9))
            for c, b in zip(
                per_slot(r["capacity"], slots),
                per_slot(r.get("background", 0.0), slots),
                strict=True,
            )
        ]
        for r in problem["resources"]
    }


def placements(problem: Problem, plan: Plan) -> list[dict[int, int]]:
    """People per slot of every request, read from the plan (same order as requests())."""
    found = [{int(k): v for k, v in a["slots"].items()} for a in plan["assignments"]]
    for slot in plan["people_slots"]:
        found.append({} if slot == -1 else {slot: 1})
    return found


def check_feasible(problem: Problem, plan: Plan) -> tuple[int, float]:
    """Assert the plan is feasible; return (people unassigned, weighted shift)."""
    slots = problem["slots"]
    asked = requests(problem)
    placed = placements(problem, plan)
    assert len(placed) == len(asked)
    capacity = {r["id"]: per_slot(r["capacity"], slots) for r in problem["resources"]}
    background = {r["id"]: per_slot(r.get("background", 0.0), slots) for r in problem["resources"]}
    load = {r: [0] * slots for r in capacity}
    unassigned, shift = 0, 0.0
    for n, (request, where) in enumerate(zip(asked, placed, strict=True)):
        assert all(people > 0 for people in where.values()), n
        assert sum(where.values()) <= request.size, n
        if request.whole:
            assert where in ({}, {next(iter(where), -1): request.size}), (n, where)
        for slot, people in where.items():
            assert request.earliest <= slot <= request.latest, (n, slot)
            shift += request.weight * people * abs(slot - request.preferred)
            for resource in request.resources:
                load[resource][slot] += people
        unassigned += request.size - sum(where.values())
    for resource, loads in load.items():
        for slot, people in enumerate(loads):
            if people:
                assert people + background[resource][slot] <= capacity[resource][slot] + 1e-9, (
                    resource,
                    slot,
                )
    for n, assignment in enumerate(plan["assignments"]):
        assert assignment["unassigned"] == asked[n].size - sum(placed[n].values())
    return unassigned, shift


def check_kpis(problem: Problem, plan: Plan) -> None:
    """Recompute the KPIs from the problem and the plan's placements."""
    slots = problem["slots"]
    asked, placed = requests(problem), placements(problem, plan)
    background = {r["id"]: per_slot(r.get("background", 0.0), slots) for r in problem["resources"]}
    before = {r: list(b) for r, b in background.items()}
    after = {r: list(b) for r, b in background.items()}
    shifted = total_shift = 0
    for request, where in zip(asked, placed, strict=True):
        for resource in request.resources:
            before[resource][request.preferred] += request.size
            for slot, people in where.items():
                after[resource][slot] += people
        for slot, people in where.items():
            total_shift += people * abs(slot - request.preferred)
            shifted += people if slot != request.preferred else 0
    kpis = plan["kpis"]
    for resource in before:
        assert kpis["peak_load_before"][resource] == approx(max(before[resource]))
        assert kpis["peak_load_after"][resource] == approx(max(after[resource]))
        assert plan["load_after"][resource] == approx(after[resource])
    assert kpis["people"] == sum(r.size for r in asked)
    assert kpis["total_shift_slots"] == total_shift
    assert kpis["people_shifted"] == shifted
    assert kpis["people_unassigned"] == kpis["people"] - sum(sum(w.values()) for w in placed)


@dataclass(frozen=True)
class Optimum:
    unassigned: float
    weighted_shift: float
    integral: bool  # the solver's vertex had integer values everywhere


def _columns(problem: Problem) -> tuple[list[tuple[int, int]], list[Request]]:
    asked = requests(problem)
    cells = [
        (n, slot)
        for n, request in enumerate(asked)
        for slot in range(request.earliest, request.latest + 1)
    ]
    return cells, asked


def highs_optimum(problem: Problem, integer: bool) -> Optimum:
    """Lexicographic optimum (fewest unassigned, then least weighted shift) by HiGHS.

    Variables: people of request n in slot t (one 0/1 per slot for whole requests);
    `integer=False` solves the LP relaxation (linprog), True the MILP (milp).
    """
    cells, asked = _columns(problem)
    free = room(problem)
    people = np.array([asked[n].size if asked[n].whole else 1 for n, _ in cells], float)
    upper = np.array([1 if asked[n].whole else asked[n].size for n, _ in cells], float)
    cost = np.array([asked[n].weight * abs(t - asked[n].preferred) for n, t in cells]) * people
    rows, bounds = [], []
    for n, request in enumerate(asked):
        rows.append([1.0 if m == n else 0.0 for m, _ in cells])
        bounds.append(1 if request.whole else request.size)
    for resource, rooms in free.items():
        for slot, left in enumerate(rooms):
            row = [
                people[k] if t == slot and resource in asked[n].resources else 0.0
                for k, (n, t) in enumerate(cells)
            ]
            if any(row):
                rows.append(row)
                bounds.append(left)
    matrix, limit = np.array(rows), np.array(bounds, float)
    total = sum(r.size for r in asked)
    first = _solve(-people, matrix, limit, upper, integer)
    placed = round(-first.fun)  # integral: TU matrix (LP) or integer variables (MILP)
    assert abs(placed + first.fun) < 1e-6
    # Phase 2: hold the people placed, minimise the weighted shift.
    matrix2 = np.vstack([matrix, -people])
    limit2 = np.append(limit, -placed)
    second = _solve(cost, matrix2, limit2, upper, integer)
    integral = bool(np.allclose(second.x, np.round(second.x), atol=1e-6))
    return Optimum(total - placed, float(second.fun), integral)


def _solve(c: np.ndarray, a: np.ndarray, b: np.ndarray, upper: np.ndarray, integer: bool) -> Any:
    if integer:
        result = milp(
            c,
            constraints=LinearConstraint(a, -np.inf, b),
            bounds=Bounds(0, upper),
            integrality=np.ones(c.size),
            options={"mip_rel_gap": 0.0},
        )
    else:
        result = linprog(c, A_ub=a, b_ub=b, bounds=list(zip([0] * c.size, upper, strict=True)))
    assert result.success, result.message
    return result


def brute_force(problem: Problem) -> tuple[int, float]:
    """Lexicographic optimum of whole requests by trying every choice (tiny problems)."""
    asked = requests(problem)
    free = room(problem)
    assert all(r.whole or r.size == 1 for r in asked)
    choices = [[None, *range(r.earliest, r.latest + 1)] for r in asked]
    best: tuple[int, float] | None = None
    for pick in itertools.product(*choices):
        load = {resource: [0] * problem["slots"] for resource in free}
        for request, slot in zip(asked, pick, strict=True):
            if slot is not None:
                for resource in request.resources:
                    load[resource][slot] += request.size
        if any(load[r][t] > free[r][t] for r in free for t in range(problem["slots"])):
            continue
        unassigned = sum(r.size for r, s in zip(asked, pick, strict=True) if s is None)
        shift = sum(
            r.weight * r.size * abs(s - r.preferred)
            for r, s in zip(asked, pick, strict=True)
            if s is not None
        )
        if best is None or (unassigned, shift) < best:
            best = (unassigned, shift)
    assert best is not None
    return best


def _window(
    rng: np.random.Generator, slots: int, reach: int, peak: int | None = None
) -> tuple[int, int, int]:
    if peak is None:
        preferred = int(rng.integers(0, slots))
    else:  # crowd around one slot, the rush hour
        preferred = min(slots - 1, max(0, peak + int(rng.integers(-1, 2))))
    earliest = max(0, preferred - int(rng.integers(0, reach + 1)))
    latest = min(slots - 1, preferred + int(rng.integers(0, reach + 1)))
    return preferred, earliest, latest


def _resources(
    rng: np.random.Generator, count: int, slots: int, scale: int
) -> list[dict[str, Any]]:
    found = []
    for r in range(count):
        capacity: int | list[int] = int(rng.integers(0, scale + 1))
        if rng.random() < 0.5:
            capacity = rng.integers(0, scale + 1, slots).tolist()
        background = np.round(rng.random(slots) * scale / 3, 1).tolist()
        found.append(
            {"id": f"r{r}", "kind": KINDS[r % 3], "capacity": capacity, "background": background}
        )
    return found


def random_problem(
    rng: np.random.Generator,
    *,
    groups: int,
    people: int = 0,
    resources: int = 2,
    slots: int = 6,
    max_size: int = 12,
    reach: int = 2,
    per_group: int = 1,
    whole: float = 0.0,
    scale: int = 15,
    peak: int | None = None,
) -> Problem:
    """A random problem: `per_group` resources per group, a share `whole` kept whole,
    preferred slots uniform or around `peak`."""
    problem: Problem = {
        "slots": slots,
        "resources": _resources(rng, resources, slots, scale),
        "groups": [],
    }
    for n in range(groups):
        preferred, earliest, latest = _window(rng, slots, reach, peak)
        used = rng.choice(resources, size=min(per_group, resources), replace=False)
        problem["groups"].append(
            {
                "id": f"g{n}",
                "size": int(rng.integers(1, max_size + 1)),
                "resources": [f"r{r}" for r in sorted(used.tolist())],
                "preferred": preferred,
                "earliest": earliest,
                "latest": latest,
                "weight": float(rng.choice([0.5, 1.0, 2.0, 3.25])),
                "whole": bool(rng.random() < whole),
            }
        )
    if people:
        windows = [_window(rng, slots, reach, peak) for _ in range(people)]
        problem["people"] = {
            "resource": [f"r{r}" for r in rng.integers(0, resources, people).tolist()],
            "preferred": [w[0] for w in windows],
            "earliest": [w[1] for w in windows],
            "latest": [w[2] for w in windows],
            "weight": rng.choice([1.0, 2.5], people).tolist(),
        }
    return problem
