"""Day rebalancing as a prize-collecting routing problem in OR-Tools.

Nodes are the candidate stations, one start node per van (where it is now) and one
shared end node reached from anywhere at no cost (vans stop where their last visit is).
Each candidate is optional, dropped at the price of the unmet demand its visit avoids;
its load change is the best one found for it; the time dimension holds driving plus
handling within each van's available time, and a soft deadline per station charges the
value a visit loses by coming later than the valuation assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimiser.mobility.dynamic.day import Day, Plan

SCALE = 100_000  # objective units per unmet trip


@dataclass(frozen=True)
class Candidates:
    """The optional visits offered to the routing, one entry per candidate station."""

    stations: np.ndarray  # station indices
    change: np.ndarray  # load change the routing plans with
    reserved: np.ndarray  # vehicles of handling time booked (>= |change|)
    prize: np.ndarray  # unmet demand saved, the price of dropping the visit
    late_from: np.ndarray  # seconds after which the saving drops
    late_rate: np.ndarray  # saving lost per second after late_from
    early_from: np.ndarray  # seconds before which the saving drops
    early_rate: np.ndarray  # saving lost per second before early_from


def _driving(day: Day, candidates: np.ndarray) -> np.ndarray:
    """Driving seconds between routing nodes: candidates, then van starts, then the end.

    Only arcs into candidates cost anything: start nodes are never entered and the end
    node is reached for free.
    """
    m, vans = len(candidates), len(day.problem.vans)
    points = np.vstack([day.station_xy[candidates], day.van_xy])
    driving = np.zeros((m + vans + 1, m + vans + 1))
    driving[: m + vans, :m] = day.travel_s(points, points[:m])
    # Rounded up: a plan that fits the model's whole seconds fits the real times too.
    return np.ceil(driving).astype(np.int64)


def solve_day_routing(
    day: Day, offer: Candidates, time_limit: float, start: Plan | None
) -> Plan | None:
    """Run the routing search; returns stops (station, change, reserved) per van."""
    p = day.problem
    candidates = offer.stations
    m, vans = len(candidates), len(p.vans)
    if m == 0 or time_limit <= 0.05:
        return None
    change = offer.change.astype(int)
    reserved = offer.reserved.astype(int)
    driving = _driving(day, candidates)
    service = np.zeros(m + vans + 1, dtype=np.int64)
    service[:m] = np.ceil(day.service_s(reserved)).astype(np.int64)

    manager = pywrapcp.RoutingIndexManager(
        m + vans + 1, vans, list(range(m, m + vans)), [m + vans] * vans
    )
    routing = pywrapcp.RoutingModel(manager)
    cost = np.rint(driving * day.cost_per_s * SCALE).astype(np.int64)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost.tolist()))
    transit = routing.RegisterTransitMatrix((driving + service[:, None]).tolist())
    routing.AddDimensionWithVehicleCapacity(
        transit, 0, [int(v.time_available_s) for v in p.vans], True, "time"
    )
    loads = np.concatenate([change, np.zeros(vans + 1, dtype=int)])
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitVector(loads.tolist()),
        0,
        [v.capacity for v in p.vans],
        False,
        "load",
    )
    load_dim, time_dim = routing.GetDimensionOrDie("load"), routing.GetDimensionOrDie("time")
    for v, spec in enumerate(p.vans):
        load_dim.CumulVar(routing.Start(v)).SetValue(spec.load)
    for k in range(m):
        index = manager.NodeToIndex(k)
        routing.AddDisjunction([index], round(offer.prize[k] * SCALE))
        late = round(offer.late_rate[k] * SCALE)
        if late > 0:
            time_dim.SetCumulVarSoftUpperBound(index, int(offer.late_from[k]), late)
        early = round(offer.early_rate[k] * SCALE)
        if early > 0 and offer.early_from[k] >= 1.0:
            time_dim.SetCumulVarSoftLowerBound(index, int(offer.early_from[k]), early)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    routing.CloseModelWithParameters(params)
    solution = None
    if start is not None:
        solution = _solve_from(routing, manager, candidates, start, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    plan: Plan = []
    for v in range(vans):
        stops = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            k = manager.IndexToNode(index)
            stops.append((int(candidates[k]), int(change[k]), int(reserved[k])))
            index = solution.Value(routing.NextVar(index))
        plan.append(stops)
    return plan


def _solve_from(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    candidates: np.ndarray,
    start: Plan,
    params: object,
) -> pywrapcp.Assignment | None:
    """Start the search from a known plan, keeping only its stops the model knows."""
    where = {int(s): k for k, s in enumerate(candidates)}
    routes = [[manager.NodeToIndex(where[s]) for s, _, _ in stops if s in where] for stops in start]
    assignment = routing.solver().Assignment()
    if not routing.RoutesToAssignment(routes, True, True, assignment):
        return None
    return routing.SolveFromAssignmentWithParameters(assignment, params)
