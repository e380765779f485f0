"""Min-cost flow plans against HiGHS on the same instances, request by request."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from optimiser.slots import SlotsProblem, solve
from tests.optimiser.slots.checks import approx, check_feasible, check_kpis
from tests.optimiser.slots.highs import highs_optimum
from tests.optimiser.slots.instances import random_problem


def _plan(problem: dict[str, Any], mode: str | None = None) -> dict[str, Any]:
    return solve(SlotsProblem.model_validate(problem), 30, mode=mode).model_dump(mode="json")


@pytest.mark.parametrize("seed", range(30))
def test_flow_matches_the_lp_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scarce = seed % 2 == 0
    problem = random_problem(
        rng,
        groups=int(rng.integers(2, 12)),
        resources=int(rng.integers(1, 4)),
        slots=int(rng.integers(3, 9)),
        scale=6 if scarce else 40,
    )
    plan = _plan(problem)
    assert (plan["mode"], plan["status"], plan["fallback"]) == ("flow", "optimal", False)
    unassigned, shift = check_feasible(problem, plan)
    lp = highs_optimum(problem, integer=False)
    # The network matrix is totally unimodular: the LP vertex is integral.
    assert lp.integral
    assert unassigned == approx(lp.unassigned)
    assert shift == approx(lp.weighted_shift)
    assert plan["objective"] == approx(shift)
    assert plan["best_bound"] == approx(shift)
    assert plan["unassigned_bound"] == unassigned
    if scarce:
        assert unassigned > 0
        assert "cannot hold everyone" in plan["message"]
    check_kpis(problem, plan)


@pytest.mark.parametrize("seed", range(6))
def test_people_block_matches_the_lp_on_individuals(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    problem = random_problem(rng, groups=3, people=150, resources=2, slots=6, scale=25)
    plan = _plan(problem)
    assert plan["status"] == "optimal"
    assert len(plan["people_slots"]) == 150
    unassigned, shift = check_feasible(problem, plan)
    lp = highs_optimum(problem, integer=False)
    assert (unassigned, shift) == (approx(lp.unassigned), approx(lp.weighted_shift))
    assert plan["distinct_groups"] < 153  # identical people were merged
    check_kpis(problem, plan)


def _classes(problem: dict[str, Any]) -> dict[str, Any]:
    """The same problem with identical people merged by the test itself."""
    people = problem["people"]
    keys = zip(
        people["resource"],
        people["preferred"],
        people["earliest"],
        people["latest"],
        people["weight"],
        strict=True,
    )
    groups = [
        {
            "id": f"c{n}",
            "size": size,
            "resources": [resource],
            "preferred": preferred,
            "earliest": earliest,
            "latest": latest,
            "weight": weight,
        }
        for n, ((resource, preferred, earliest, latest, weight), size) in enumerate(
            Counter(keys).items()
        )
    ]
    return {"slots": problem["slots"], "resources": problem["resources"], "groups": groups}


def test_twenty_thousand_people_match_the_lp_on_their_classes() -> None:
    rng = np.random.default_rng(7)
    problem = random_problem(rng, groups=0, people=20_000, resources=3, slots=8, scale=1500)
    plan = _plan(problem)
    assert plan["status"] == "optimal"
    unassigned, shift = check_feasible(problem, plan)
    lp = highs_optimum(_classes(problem), integer=False)
    assert (unassigned, shift) == (approx(lp.unassigned), approx(lp.weighted_shift))
    assert unassigned > 0 and shift > 0  # both parts of the objective are at work
    check_kpis(problem, plan)


def test_a_problem_without_requests_is_an_empty_optimal_plan() -> None:
    problem = {"slots": 3, "resources": [{"id": "r", "kind": "place", "capacity": 2}]}
    plan = _plan(problem)
    assert plan["status"] == "optimal"
    assert plan["kpis"]["people"] == 0
    assert plan["load_after"] == {"r": [0.0, 0.0, 0.0]}
