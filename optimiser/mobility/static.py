"""The night run: solve a static rebalancing problem within a time limit.

Small instances (up to EXACT_STATIONS stations) are solved to proved optimality by
CP-SAT, hinted with a quick routing solution. Larger ones get a guided local search of
the routing library for a start (20% of the budget), the iterated giant-tour search with
don't-look bits (`fast_search.py`, 70%) and an LP lower bound from a short
cutting-plane run (10%).
Should the routing find nothing (a fleet too small for a first solution to be found),
a greedy construction is the fallback; if that fails too, the run has failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimiser.mobility.bound import lp_bound
from optimiser.mobility.exact import solve_exact
from optimiser.mobility.fast_search import fast_search
from optimiser.mobility.model import StaticProblem, StaticRoute, StaticStop
from optimiser.mobility.routes import route_cost, start_load, total_cost
from optimiser.mobility.static_routing import RoutingModel
from optimiser.mobility.static_search import GLS, iterated_search

EXACT_STATIONS = 20
_HINT_SHARE = 0.15  # of the budget for the routing hint on small instances
_ROUTING_SHARE = 0.2  # of the budget for the routing start on larger ones
_BOUND_SHARE = 0.1  # of the budget for the LP bound; the rest goes to fast_search
_SLACK = 0.01  # fast_search walks through tours up to 1% above the best


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
    """Solve within about `time_limit` seconds of wall time."""
    began = time.monotonic()
    cost, changes, capacity = problem.travel_cost, problem.changes, problem.van_capacity
    stations = len(problem.stations)
    vehicles = problem.fleet_size or stations
    model = RoutingModel(cost, changes, capacity, min(vehicles, stations))
    if stations <= EXACT_STATIONS:
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
    routes = model.solve(GLS, _ROUTING_SHARE * time_limit)
    if routes is not None:
        left = time_limit * (1.0 - _BOUND_SHARE) - (time.monotonic() - began)
        routes, _ = fast_search(cost, changes, capacity, routes, left, seed, vehicles, _SLACK)
    bound_budget = time_limit - (time.monotonic() - began)
    bound = lp_bound(cost, changes, capacity, problem.fleet_size, bound_budget)
    if routes is None:
        return _fallback(problem, began, bound)
    return _result("feasible", routes, cost, bound, "routing", began)


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
