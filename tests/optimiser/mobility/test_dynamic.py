"""Day plans: feasible by independent checks, honest figures, DP optimal per route."""

from __future__ import annotations

import itertools
import math

import pytest

from optimiser.mobility import plan_dynamic
from optimiser.mobility.dynamic.day import Day
from optimiser.mobility.dynamic.loads import best_changes
from optimiser.mobility.generate import dynamic_instance
from tests.optimiser.mobility.checks import check_plan
from tests.optimiser.mobility.fluid import simulate


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plan_is_feasible_and_its_figures_are_right(seed: int) -> None:
    problem = dynamic_instance(60, 3, seed)
    plan = plan_dynamic(problem, deadline_s=2.0)
    assert plan.status in ("feasible", "fallback")
    check_plan(problem, plan)
    assert plan.kpis["unmet_avoided"] > 0


def test_no_time_still_gives_a_feasible_flagged_plan() -> None:
    problem = dynamic_instance(80, 4, 5)
    plan = plan_dynamic(problem, deadline_s=0.0)
    assert plan.fallback and plan.status == "fallback"
    check_plan(problem, plan)


def test_a_calm_day_is_planned_as_doing_nothing_not_as_a_fallback() -> None:
    # Half-full stations whose pickups and returns balance lose nothing: no visit is
    # worth a van, and doing nothing is the plan itself, not a failed search's stand-in.
    problem = dynamic_instance(30, 2, 4)
    calm = [
        station.model_copy(
            update={
                "inventory": station.capacity // 2,
                "pickups": [1.0] * len(station.pickups),
                "returns": [1.0] * len(station.returns),
            }
        )
        for station in problem.stations
    ]
    plan = plan_dynamic(problem.model_copy(update={"stations": calm}), deadline_s=3.0)
    assert (plan.status, plan.fallback) == ("feasible", False)
    assert all(not route.stops for route in plan.routes)
    assert plan.unmet_demand == 0.0


def test_load_dp_matches_enumeration_on_a_fixed_route() -> None:
    problem = dynamic_instance(30, 1, 7, van_capacity=6)
    day = Day(problem)
    ranked = sorted(range(30), key=lambda k: -day.baseline[k])[:3]
    stops = [(k, 0, 6) for k in ranked]
    arrivals, _, _ = day.timeline(0, stops)
    chosen = best_changes(day, 0, stops, arrivals)
    van = problem.vans[0]

    def unmet(changes: tuple[int, ...]) -> float:
        load, total = van.load, 0.0
        for (k, _, _), change, at in zip(stops, changes, arrivals, strict=True):
            load += change
            if not 0 <= load <= van.capacity:
                return math.inf
            try:
                total += simulate(problem, k, at, change)[1]
            except AssertionError:
                return math.inf
        return total

    best = min(unmet(c) for c in itertools.product(range(-6, 7), repeat=3))
    assert unmet(tuple(chosen)) == pytest.approx(best, abs=1e-6)
