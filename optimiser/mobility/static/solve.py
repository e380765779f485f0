"""The night run: solve a static rebalancing problem within a time limit.

Small instances (up to EXACT_STATIONS stations) are solved to proved optimality by
CP-SAT, hinted with a quick routing solution. Larger ones run searches on both cores
(`parallel.py`): each process runs two searches in turn, each from its own
first solution of the routing library (four different starts in all) improved by its
guided local search for a tenth of the search's time, then by the iterated giant-tour
search (`fast_search.py`, compiled). This process stops searching at 90% of the budget
for an LP lower bound from a short cutting-plane run; the other searches to the end.
The cheapest solution found is returned.
Should the routing find nothing (a fleet too small for a first solution to be found),
a greedy construction is the fallback; if that fails too, the run has failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimiser.mobility.model import StaticProblem, StaticRoute, StaticStop
from optimiser.mobility.routes import cheaper, route_cost, start_load, total_cost
from optimiser.mobility.static.bound import lp_bound
from optimiser.mobility.static.exact import solve_exact
from optimiser.mobility.static.fast_search import warm_up
from optimiser.mobility.static.parallel import (
    SearchInstance,
    SearchPlan,
    SecondSearch,
    run_search,
    usable_cores,
)
from optimiser.mobility.static.routing import RoutingConfig, RoutingModel
from optimiser.mobility.static.search import iterated_search

EXACT_STATIONS = 20
_HINT_SHARE = 0.15  # of the budget for the routing hint on small instances
# Of each search's time for its routing start: the giant-tour search improves faster
# than the routing's guided local search once a start is found.
_ROUTING_SHARE = 0.1
_BOUND_SHARE = 0.1  # of the budget for the LP bound; the rest goes to the searches
_SLACK = 0.01  # fast_search walks through tours up to 1% above the best
# Shares of the kicks that split the tour into routes of their own: they reach the
# solutions of two or three routes that single-route kicks miss (over 15 runs of 8 s on
# the 80-120 station instances, 0.1-0.2 left 0.10-0.12% to the best found, 0.0 0.77%).
_FIRST_SPLIT_SHARE = 0.1
_SECOND_SPLIT_SHARE = 0.2
# Each process runs two searches in turn, each from its own first solution: the searches
# end in a few deep funnels that depend on the start far more than on the seed (over 9
# runs of 4 s on three instances, the best known cost of one was reached only from the
# savings and Christofides starts), so four starts beat two searches twice as long.
_FIRST_STARTS = tuple(
    RoutingConfig(first_solution=name, metaheuristic="GUIDED_LOCAL_SEARCH")
    for name in ("PATH_CHEAPEST_ARC", "SAVINGS")
)
_SECOND_STARTS = tuple(
    RoutingConfig(first_solution=name, metaheuristic="GUIDED_LOCAL_SEARCH")
    for name in ("CHRISTOFIDES", "PARALLEL_CHEAPEST_INSERTION")
)


@dataclass(frozen=True)
class StaticResult:
    """Routes (station nodes per van), status and figures of one night-run solve."""

    status: str
    routes: list[list[int]]
    objective: int | None
    best_bound: float
    method: str
    solve_ms: int


def solve_static(problem: StaticProblem, time_limit: float, seed: int = 0) -> StaticResult:
    """Solve within about `time_limit` seconds of wall time.

    Above EXACT_STATIONS the compiled search is loaded first, outside the time limit: a
    few tenths of a second, or the compilation itself the first time on a machine
    (`make` does that at install, so a service never pays it during a tick).
    """
    stations = len(problem.stations)
    if stations > EXACT_STATIONS:
        warm_up()
    began = time.monotonic()
    cost, changes, capacity = problem.travel_cost, problem.changes, problem.van_capacity
    if stations <= EXACT_STATIONS:
        model = RoutingModel(cost, changes, capacity, min(problem.fleet_size or stations, stations))
        hint, _ = iterated_search(model, _HINT_SHARE * time_limit, seed)
        left = time_limit - (time.monotonic() - began)
        exact = solve_exact(cost, changes, capacity, problem.fleet_size, left, hint=hint)
        if exact.routes is not None and (
            hint is None
            or exact.optimal
            or (exact.objective is not None and exact.objective <= total_cost(cost, hint))
        ):
            status = "optimal" if exact.optimal else "feasible"
            return _result(status, exact.routes, cost, exact.bound, "cp-sat", began)
        if hint is not None:
            return _result("feasible", hint, cost, exact.bound, "routing", began)
        if exact.bound == float("inf"):
            return _result("failed", [], cost, exact.bound, "cp-sat", began)
        return _fallback(problem, began, exact.bound)
    return solve_large(problem, time_limit, seed, began)


def solve_large(
    problem: StaticProblem, time_limit: float, seed: int = 0, began: float | None = None
) -> StaticResult:
    """The path of instances above EXACT_STATIONS: searches on both cores, then a bound.

    It works on any size: tests run it on instances small enough to enumerate.
    """
    began = time.monotonic() if began is None else began
    cost, changes, capacity = problem.travel_cost, problem.changes, problem.van_capacity
    vehicles = min(problem.fleet_size or len(problem.stations), len(problem.stations))
    instance = SearchInstance(cost, changes, capacity, vehicles)
    first = SearchPlan(_FIRST_STARTS, _ROUTING_SHARE, seed, _SLACK, _FIRST_SPLIT_SHARE)
    search_until = time.time() + time_limit * (1.0 - _BOUND_SHARE) - (time.monotonic() - began)
    if usable_cores() < 2:
        starts = first.starts + _SECOND_STARTS
        alone = SearchPlan(starts, _ROUTING_SHARE, seed, _SLACK, _FIRST_SPLIT_SHARE)
        routes = run_search(instance, alone, search_until)
        bound = lp_bound(cost, changes, capacity, problem.fleet_size, _left(began, time_limit))
        return _large_result(problem, routes, bound, began)
    # The other core searches for the whole budget, while this one searches, then bounds.
    second = SearchPlan(_SECOND_STARTS, _ROUTING_SHARE, seed + 10, _SLACK, _SECOND_SPLIT_SHARE)
    deadline = time.time() + _left(began, time_limit)
    with SecondSearch(instance, second, deadline) as other:
        routes = run_search(instance, first, search_until)
        bound = lp_bound(cost, changes, capacity, problem.fleet_size, _left(began, time_limit))
        routes = cheaper(cost, routes, other.result())
    return _large_result(problem, routes, bound, began)


def _left(began: float, time_limit: float) -> float:
    return time_limit - (time.monotonic() - began)


def _large_result(
    problem: StaticProblem, routes: list[list[int]] | None, bound: float, began: float
) -> StaticResult:
    if routes is None:
        return _fallback(problem, began, bound)
    return _result("feasible", routes, problem.travel_cost, bound, "routing", began)


def _result(
    status: str,
    routes: list[list[int]],
    cost: list[list[int]],
    bound: float,
    method: str,
    began: float,
) -> StaticResult:
    objective = total_cost(cost, routes) if status != "failed" else None
    if objective is not None and bound >= objective - 1e-6:
        status = "optimal"
    return StaticResult(
        status=status,
        routes=routes,
        objective=objective,
        best_bound=min(bound, objective) if objective is not None else bound,
        method=method,
        solve_ms=int((time.monotonic() - began) * 1000),
    )


def greedy_routes(problem: StaticProblem) -> list[list[int]] | None:
    """Nearest feasible station next; a new van when none fits. None if the fleet runs out."""
    cost, changes, capacity = problem.travel_cost, problem.changes, problem.van_capacity
    left = set(range(1, len(changes)))
    routes: list[list[int]] = []
    while left:
        if problem.fleet_size is not None and len(routes) >= problem.fleet_size:
            return None
        route: list[int] = []
        while True:
            here = route[-1] if route else 0
            fits = [j for j in left if start_load([*route, j], changes, capacity) is not None]
            if not fits:
                break
            nearest = min(fits, key=lambda j: (cost[here][j], j))
            route.append(nearest)
            left.discard(nearest)
        routes.append(route)
    return routes


def _fallback(problem: StaticProblem, began: float, bound: float) -> StaticResult:
    routes = greedy_routes(problem)
    if routes is None:
        return _result("failed", [], problem.travel_cost, bound, "greedy", began)
    return _result("fallback", routes, problem.travel_cost, bound, "greedy", began)


def describe_routes(problem: StaticProblem, routes: list[list[int]]) -> list[StaticRoute]:
    """Routes with station ids, start loads and the van load after every stop."""
    described = []
    for van, route in enumerate(routes):
        load = start_load(route, problem.changes, problem.van_capacity)
        if load is None:
            raise ValueError(f"route {van} breaks the van capacity")
        start, stops = load, []
        for node in route:
            load += problem.changes[node]
            stops.append(
                StaticStop(
                    station=problem.stations[node - 1].id,
                    node=node,
                    load=problem.changes[node],
                    van_load_after=load,
                )
            )
        described.append(
            StaticRoute(
                van=van,
                start_load=start,
                stops=stops,
                cost=route_cost(problem.travel_cost, route),
            )
        )
    return described
