"""The compiled giant-tour search with don't-look bits: every move it makes is feasible
and cheaper, its capacity check agrees with a brute-force one, and it reaches the
brute-force optimum on tiny instances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimiser.mobility.generate import static_instance
from optimiser.mobility.static import fast_search as fs
from optimiser.mobility.static import tour_kernel as kernel
from tests.optimiser.mobility.brute import brute_force_optimum


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    # The first run on a machine compiles the search: not within a test's time limit.
    fs.warm_up()


def _route_ok(route: list[int], changes: list[int], capacity: int) -> bool:
    return any(
        all(
            0 <= start + sum(changes[n] for n in route[: k + 1]) <= capacity
            for k in range(len(route))
        )
        for start in range(capacity + 1)
    )


def _cost(cost: list[list[int]], routes: list[list[int]]) -> int:
    return sum(sum(cost[a][b] for a, b in zip([0, *r], [*r, 0], strict=True)) for r in routes)


@pytest.mark.parametrize(
    ("seed", "capacity", "balanced"), [(1, 10, True), (2, 14, False), (3, 25, True)]
)
def test_every_move_and_kick_keeps_stations_and_capacity(
    seed: int, capacity: int, balanced: bool
) -> None:
    problem = static_instance(30, seed, capacity=capacity, balanced=balanced)
    changes, cost = problem.changes, problem.travel_cost
    tours = fs.FastTour(cost, changes, capacity)
    tour = tours.from_routes([[i] for i in range(1, 31)])
    kernel.seed_random(seed)
    moves = 0
    for _ in range(40):
        for v in range(1, 31):
            found = tours.improve(tour, v)
            if found is None:
                continue
            new, touched = found
            assert v in touched.tolist() or len(set(touched.tolist()) - {0}) == 2  # or a merge
            routes = tours.to_routes(new)
            assert sorted(n for r in routes for n in r) == list(range(1, 31))
            assert all(_route_ok(r, changes, capacity) for r in routes)
            # Each move is applied only when it lowers the cost.
            assert _cost(cost, routes) < _cost(cost, tours.to_routes(tour))
            tour, moves = new, moves + 1
        tour, _ = tours.kick(tour)
        routes = tours.to_routes(tour)
        assert sorted(n for r in routes for n in r) == list(range(1, 31))
        assert all(_route_ok(r, changes, capacity) for r in routes)
    assert moves > 30


@pytest.mark.parametrize("seed", [41, 42, 44])
def test_search_from_singletons_reaches_the_optimum_on_tiny_instances(seed: int) -> None:
    problem = static_instance(7, seed, capacity=12, balanced=seed % 2 == 1)
    optimum = brute_force_optimum(problem.travel_cost, problem.changes, 12)
    routes, _ = fs.fast_search(
        problem.travel_cost, problem.changes, 12, [[i] for i in range(1, 8)], 0.5, seed, slack=0.05
    )
    assert sorted(n for r in routes for n in r) == list(range(1, 8))
    assert all(_route_ok(r, problem.changes, 12) for r in routes)
    assert _cost(problem.travel_cost, routes) == optimum


def test_a_descent_ends_in_a_local_optimum_of_or_opt_checked_by_enumeration() -> None:
    problem = static_instance(12, 5, capacity=15)
    changes, cost = problem.changes, problem.travel_cost
    tours = fs.FastTour(cost, changes, 15)
    tour = tours.descend(tours.from_routes([[i] for i in range(1, 13)]))
    base = _cost(cost, tours.to_routes(tour))
    # No single station moved anywhere (within the giant tour) gives a cheaper feasible
    # tour next to one of its nearest stations: enumerate every such insertion.
    for v in range(1, 13):
        near = tours.near[v].tolist()
        rest = [x for x in tour.tolist() if x != v]
        for at in range(1, len(rest)):
            if rest[at - 1] not in near and rest[at] not in near:
                continue
            candidate = kernel.clean(np.array([*rest[:at], v, *rest[at:]], dtype=np.int64))
            routes = tours.to_routes(candidate)
            if all(_route_ok(r, changes, 15) for r in routes):
                assert _cost(cost, routes) >= base


@pytest.mark.parametrize("split_share", [0.0, 1.0])
def test_kicks_keep_every_station_and_the_capacity(split_share: float) -> None:
    # Capacity 30 with changes of ±10: one route can hold every station, and most kicks
    # of a single route stay single routes unless they are made to split.
    problem = static_instance(40, 9, capacity=30)
    tours = fs.FastTour(problem.travel_cost, problem.changes, 30)
    tour = tours.descend(tours.from_routes([[i] for i in range(1, 41)]))
    kernel.seed_random(9)
    split = 0
    for _ in range(50):
        kicked, joints = tours.kick(tour, split_share)
        routes = tours.to_routes(kicked)
        assert sorted(n for r in routes for n in r) == list(range(1, 41))
        assert all(_route_ok(r, problem.changes, 30) for r in routes)
        assert set(joints.tolist()) <= set(tour.tolist())
        split += int((kicked == 0).sum() > (tour == 0).sum())
    assert split == 50 if split_share == 1.0 else split < 25


@settings(max_examples=200, deadline=None)
@given(
    order=st.permutations(list(range(1, 9))),
    cuts=st.lists(st.booleans(), min_size=7, max_size=7),
    changes=st.lists(st.integers(-6, 6), min_size=8, max_size=8),
    capacity=st.integers(0, 12),
)
def test_the_compiled_capacity_check_agrees_with_trying_every_start_load(
    order: list[int], cuts: list[bool], changes: list[int], capacity: int
) -> None:
    tour = [0, order[0]]
    for node, cut in zip(order[1:], cuts, strict=True):
        tour += [0, node] if cut else [node]
    q = [0, *changes]
    routes = fs.FastTour.to_routes(np.array([*tour, 0]))
    expected = all(_route_ok(r, q, capacity) for r in routes)
    t = np.array([*tour, 0], dtype=np.int64)
    assert kernel.feasible(np.array(q, dtype=np.int64), capacity, t) == expected


def test_the_search_keeps_to_the_fleet_and_is_repeatable_for_a_seed() -> None:
    problem = static_instance(40, 3, capacity=12)
    start = [[i] for i in range(1, 41)]
    args = (problem.travel_cost, problem.changes, 12, start)
    fleet = len(fs.fast_search(*args, 0.0)[0])  # the descended start: no kick yet
    # Kicks that split make tours of more routes; the ones over the fleet are dropped.
    routes, kicks = fs.fast_search(*args, 0.3, seed=5, max_routes=fleet, split_share=1.0)
    assert kicks > 0
    assert len(routes) <= fleet
    assert sorted(n for r in routes for n in r) == list(range(1, 41))
    assert all(_route_ok(r, problem.changes, 12) for r in routes)
    # The same seed replays the same kicks: the first thousand give the same tour.
    tours = fs.FastTour(problem.travel_cost, problem.changes, 12)
    first = tours.descend(tours.from_routes(start))
    results = []
    for _ in range(2):
        kernel.seed_random(5)
        _, best = kernel.iterate(tours.instance, first, first, 1000, 0.01, 0.5, 0)
        results.append(best.tolist())
    assert results[0] == results[1]
    assert _cost(problem.travel_cost, tours.to_routes(np.array(results[0]))) <= _cost(
        problem.travel_cost, tours.to_routes(first)
    )
