"""CP-SAT plans against brute force (whole groups) and HiGHS's MILP (several resources)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optimiser.slots import SlotsProblem, solve
from tests.optimiser.slots.brute import brute_force
from tests.optimiser.slots.checks import approx, check_feasible, check_kpis
from tests.optimiser.slots.highs import highs_optimum
from tests.optimiser.slots.instances import random_problem


def _plan(problem: dict[str, Any]) -> dict[str, Any]:
    solution = solve(SlotsProblem.model_validate(problem), 30, mode="cpsat", workers=2)
    return solution.model_dump(mode="json")


@pytest.mark.parametrize("seed", range(40))
def test_whole_groups_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    problem = random_problem(
        rng,
        groups=int(rng.integers(4, 7)),
        resources=int(rng.integers(1, 4)),
        per_group=int(rng.integers(1, 3)),
        slots=5,
        reach=2,
        whole=1.0,
        peak=2,
    )
    for resource in problem["resources"]:  # even capacities, so shifting pays
        resource["capacity"] = int(rng.integers(6, 16))
        resource["background"] = float(rng.integers(0, 3))
    plan = _plan(problem)
    assert (plan["mode"], plan["status"]) == ("cpsat", "optimal")
    unassigned, shift = check_feasible(problem, plan)
    assert (unassigned, shift) == approx(brute_force(problem))
    assert plan["objective"] == approx(shift)
    assert plan["best_bound"] == approx(shift)
    assert plan["unassigned_bound"] == unassigned
    check_kpis(problem, plan)


@pytest.mark.parametrize("seed", range(12))
def test_groups_on_several_resources_match_the_milp(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    problem = random_problem(
        rng,
        groups=int(rng.integers(3, 10)),
        resources=3,
        per_group=int(rng.integers(1, 4)),
        slots=int(rng.integers(3, 7)),
        whole=0.5 if seed % 3 else 0.0,
        scale=10 if seed % 2 else 30,
        peak=1,
    )
    plan = _plan(problem)
    assert plan["status"] == "optimal"
    unassigned, shift = check_feasible(problem, plan)
    best = highs_optimum(problem, integer=True)
    assert (unassigned, shift) == (approx(best.unassigned), approx(best.weighted_shift))
    check_kpis(problem, plan)


def test_cpsat_takes_people_and_identical_whole_groups() -> None:
    rng = np.random.default_rng(5)
    problem = random_problem(rng, groups=4, people=40, resources=2, slots=5, whole=1.0)
    twins = [dict(group, id=f"{group['id']}-twin") for group in problem["groups"]]
    problem["groups"] += twins  # identical whole groups merge into one with a count of 2
    plan = _plan(problem)
    assert plan["status"] == "optimal"
    assert plan["distinct_groups"] < len(problem["groups"]) + 40
    unassigned, shift = check_feasible(problem, plan)
    best = highs_optimum(problem, integer=True)
    assert (unassigned, shift) == (approx(best.unassigned), approx(best.weighted_shift))


def test_the_fitting_mode_is_chosen() -> None:
    rng = np.random.default_rng(9)
    single = random_problem(rng, groups=4)
    several = random_problem(rng, groups=4, per_group=2)
    assert solve(SlotsProblem.model_validate(single), 10).mode == "flow"
    assert solve(SlotsProblem.model_validate(several), 10).mode == "cpsat"
