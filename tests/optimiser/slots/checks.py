"""Independent checks of slots plans: written from the problem format alone, sharing no
code with optimiser.slots (plain Python for feasibility and the KPIs)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.optimiser.slots.reading import Plan, Problem, per_slot, placements, requests


def approx(value: Any) -> Any:
    return pytest.approx(value, abs=1e-5)


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
