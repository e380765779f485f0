"""When a solver fails or runs out of time the plan is still feasible, and says so."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import optimiser.slots.solver as solver_module
from optimiser.slots import SlotsProblem, solve
from tests.optimiser.slots.checks import check_feasible, check_kpis
from tests.optimiser.slots.highs import highs_optimum
from tests.optimiser.slots.instances import random_problem


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("solver crashed")


@pytest.mark.parametrize("seed", range(8))
def test_greedy_fallback_is_feasible_and_no_better_than_the_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(400 + seed)
    problem = random_problem(
        rng, groups=8, people=30, resources=3, per_group=1 + seed % 3, whole=0.4, peak=2
    )
    best = highs_optimum(problem, integer=True)
    monkeypatch.setattr(solver_module, "solve_flow", _broken)
    monkeypatch.setattr(solver_module, "solve_cpsat", _broken)
    plan = solve(SlotsProblem.model_validate(problem), 10).model_dump(mode="json")
    assert (plan["status"], plan["mode"], plan["fallback"]) == ("fallback", "greedy", True)
    assert plan["best_bound"] is None and plan["unassigned_bound"] is None
    assert "solver crashed" in plan["message"]
    unassigned, shift = check_feasible(problem, plan)
    assert (unassigned, shift) >= (best.unassigned - 1e-6, best.weighted_shift - 1e-6)
    check_kpis(problem, plan)


@pytest.mark.parametrize("seconds", [0.0, 0.05, 0.5])
def test_a_short_deadline_gives_a_feasible_plan_with_valid_bounds(seconds: float) -> None:
    rng = np.random.default_rng(11)
    problem = random_problem(rng, groups=40, resources=3, per_group=2, whole=0.5, slots=8)
    best = highs_optimum(problem, integer=True)
    solution = solve(SlotsProblem.model_validate(problem), seconds, mode="cpsat")
    plan = solution.model_dump(mode="json")
    assert plan["status"] in {"fallback", "feasible", "optimal"}
    assert plan["fallback"] == (plan["status"] == "fallback")
    unassigned, shift = check_feasible(problem, plan)
    assert (unassigned, shift) >= (best.unassigned - 1e-6, best.weighted_shift - 1e-6)
    if plan["unassigned_bound"] is not None:
        assert plan["unassigned_bound"] <= best.unassigned <= unassigned
    if plan["best_bound"] is not None:  # a bound over plans leaving no more unassigned
        assert plan["best_bound"] <= best.weighted_shift + 1e-6


def test_when_even_the_fallback_fails_the_plan_is_failed_and_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(12)
    problem = random_problem(rng, groups=5)
    monkeypatch.setattr(solver_module, "solve_flow", _broken)
    monkeypatch.setattr(solver_module, "greedy", _broken)
    plan = solve(SlotsProblem.model_validate(problem), 10).model_dump(mode="json")
    assert plan["status"] == "failed"
    assert plan["kpis"]["people_unassigned"] == plan["kpis"]["people"]
    assert check_feasible(problem, plan)[0] == plan["kpis"]["people"]
