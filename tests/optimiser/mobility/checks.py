"""Independent checks of answers: written from the problem statement, not from the solver."""

from __future__ import annotations

import itertools
from typing import Any

from optimiser.mobility.model import StaticProblem


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
