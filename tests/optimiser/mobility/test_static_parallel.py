"""The night run's large-instance path: two searches, one per core, and no process left."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from optimiser.mobility.generate import static_instance
from optimiser.mobility.routes import start_load, total_cost
from optimiser.mobility.static.fast_search import warm_up
from optimiser.mobility.static.parallel import SearchInstance, SearchPlan, SecondSearch
from optimiser.mobility.static.search import GLS
from optimiser.mobility.static.solve import solve_large
from tests.optimiser.mobility.brute import brute_force_optimum


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    # The first run on a machine compiles the search: not within a test's time limit.
    warm_up()


def _feasible(routes: list[list[int]], changes: list[int], capacity: int) -> bool:
    stations = sorted(node for route in routes for node in route)
    return stations == list(range(1, len(changes))) and all(
        start_load(route, changes, capacity) is not None for route in routes
    )


@pytest.mark.parametrize(("seed", "balanced"), [(61, True), (62, False), (63, True)])
def test_large_path_reaches_the_brute_force_optimum(seed: int, balanced: bool) -> None:
    problem = static_instance(8, seed, capacity=12, balanced=balanced)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, 12)
    result = solve_large(problem, 1.5, seed)
    assert result.objective == optimum
    assert _feasible(result.routes, problem.changes, 12)
    assert total_cost(problem.travel_cost, result.routes) == optimum
    assert result.best_bound <= optimum + 1e-6
    assert multiprocessing.active_children() == []


def test_second_search_answers_feasible_routes_and_stops() -> None:
    problem = static_instance(40, 7, capacity=20)
    plan = SearchPlan((GLS,), 0.3, seed=5, slack=0.01)
    # Time to spawn, should another test have left a thread, on a machine busy with other
    # work; the search runs to the deadline, so a longer one only makes the test slower.
    deadline = time.time() + 6.0
    alone = threading.active_count() == 1
    with SecondSearch(
        SearchInstance(problem.travel_cost, problem.changes, 20, 40), plan, deadline
    ) as second:
        assert second.start_method == ("fork" if alone else "spawn")
        routes = second.result()
    assert routes is not None
    assert _feasible(routes, problem.changes, 20)
    assert multiprocessing.active_children() == []


def test_a_worker_past_its_deadline_is_ended() -> None:
    # The caller gives up one grace period after the deadline and ends the worker: its
    # search (here 30 s long, as the deadline is far) never outlives the block.
    problem = static_instance(40, 8, capacity=20)
    plan = SearchPlan((GLS,), 0.01, seed=5, slack=0.01)
    with SecondSearch(
        SearchInstance(problem.travel_cost, problem.changes, 20, 40), plan, time.time() + 30
    ) as s:
        s.deadline = time.time()  # the caller's own deadline moves up: it stops waiting
        assert s.result() is None
    assert multiprocessing.active_children() == []


def test_a_threaded_caller_spawns_the_worker_and_gets_its_routes() -> None:
    # Another thread alive: the worker is spawned (a fresh interpreter), not forked.
    problem = static_instance(30, 9, capacity=20)
    plan = SearchPlan((GLS,), 0.3, seed=2, slack=0.01, split_share=0.2)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, args=(30.0,))
    other.start()
    try:
        # The spawned interpreter imports for about a second (more on a busy machine); the
        # search runs to the deadline, so a longer one only makes the test slower.
        deadline = time.time() + 6.0
        with SecondSearch(
            SearchInstance(problem.travel_cost, problem.changes, 20, 30), plan, deadline
        ) as s:
            assert s.start_method == "spawn"
            routes = s.result()
    finally:
        stop.set()
        other.join()
    assert routes is not None
    assert _feasible(routes, problem.changes, 20)
    assert multiprocessing.active_children() == []
