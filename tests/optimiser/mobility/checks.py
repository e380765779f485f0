"""Independent checks of answers: written from the problem statement, not from the solver."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from optimiser.mobility.model import DynamicPlan, DynamicProblem, StaticProblem
from tests.optimiser.mobility.fluid import simulate


def check_static_answer(problem: StaticProblem, answer: dict[str, Any]) -> int:
    """Assert the answer is a feasible night run; return its recomputed total cost."""
    capacity, matrix = problem.van_capacity, problem.travel_cost
    ids = [s.id for s in problem.stations]
    change_of = {s.id: s.change for s in problem.stations}
    node_of = {s.id: k + 1 for k, s in enumerate(problem.stations)}
    visited: list[str] = []
    total = 0
    if problem.fleet_size is not None:
        assert len(answer["routes"]) <= problem.fleet_size
    for route in answer["routes"]:
        stations = [stop["station"] for stop in route["stops"]]
        assert stations, "a route without stops"
        visited += stations
        # Some start load in [0, Q] must keep the load within [0, Q] after every stop.
        feasible_starts = []
        for start in range(capacity + 1):
            load, ok = start, True
            for station in stations:
                load += change_of[station]
                ok = ok and 0 <= load <= capacity
            if ok:
                feasible_starts.append(start)
        assert feasible_starts, f"no start load fits route {stations}"
        assert route["start_load"] in feasible_starts
        load = route["start_load"]
        for stop in route["stops"]:
            assert stop["load"] == change_of[stop["station"]]
            load += stop["load"]
            assert stop["van_load_after"] == load
        path = [0] + [node_of[s] for s in stations] + [0]
        cost = sum(matrix[a][b] for a, b in itertools.pairwise(path))
        assert route["cost"] == cost
        total += cost
    assert sorted(visited) == sorted(ids), "every station exactly once"
    assert answer["objective"] == total
    assert answer["best_bound"] <= total + 1e-6
    return total


def check_plan(problem: DynamicProblem, plan: DynamicPlan) -> None:
    """Every constraint checked from the problem statement; figures recomputed."""
    index = {s.id: k for k, s in enumerate(problem.stations)}
    speed_s_per_km = problem.road_factor * 3600 / problem.speed_kmh
    visits: dict[int, tuple[float, int]] = {}
    driving_total = 0.0
    for van, route in zip(problem.vans, plan.routes, strict=True):
        assert route.van == van.id
        x, y, clock, load, driving = van.x, van.y, 0.0, van.load, 0.0
        for stop in route.stops:
            k = index[stop.station]
            assert k not in visits, "a station visited twice"
            spec = problem.stations[k]
            leg = math.hypot(spec.x - x, spec.y - y) * speed_s_per_km
            clock += leg
            driving += leg
            assert stop.arrival_s == pytest.approx(clock, abs=0.2)
            load += stop.load
            assert 0 <= load <= van.capacity, "van capacity broken"
            assert stop.van_load_after == load
            before, _ = simulate(problem, k, clock, stop.load)  # asserts station capacity
            assert stop.inventory_after == pytest.approx(before - stop.load, abs=0.01)
            assert stop.service_s >= problem.stop_s + problem.handling_s * abs(stop.load) - 0.1
            clock = stop.arrival_s + stop.service_s
            x, y = spec.x, spec.y
            visits[k] = (stop.arrival_s, stop.load)
        assert clock <= van.time_available_s + 0.2
        assert route.busy_s == pytest.approx(clock, abs=0.5)
        driving_total += driving
    unmet = 0.0
    for k in range(len(problem.stations)):
        arrival, change = visits.get(k, (None, 0))
        unmet += simulate(problem, k, arrival, change)[1]
    baseline = sum(simulate(problem, k)[1] for k in range(len(problem.stations)))
    assert plan.unmet_demand == pytest.approx(unmet, abs=1e-3)
    assert plan.driving_s == pytest.approx(driving_total, abs=0.5)
    assert plan.kpis["unmet_do_nothing"] == pytest.approx(baseline, abs=1e-3)
    assert plan.objective == pytest.approx(
        unmet + problem.driving_weight * driving_total / 3600, abs=1e-3
    )
    assert plan.best_bound <= plan.objective + 1e-6
    assert plan.objective <= baseline + 1e-6, "never worse than doing nothing"
