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
from optimiser.mobility.routing_solution import assignment_of, routes_of

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
    if len(offer.stations) == 0 or time_limit <= 0.05:
        return None
    return DayRouting(day, offer).solve(time_limit, start)


class DayRouting:
    """The prize-collecting routing model of one day's candidates."""

    def __init__(self, day: Day, offer: Candidates) -> None:
        p = day.problem
        self.offer = offer
        m, vans = len(offer.stations), len(p.vans)
        self.change = offer.change.astype(int)
        self.reserved = offer.reserved.astype(int)
        driving = _driving(day, offer.stations)
        service = np.zeros(m + vans + 1, dtype=np.int64)
        service[:m] = np.ceil(day.service_s(self.reserved)).astype(np.int64)

        self.manager = pywrapcp.RoutingIndexManager(
            m + vans + 1, vans, list(range(m, m + vans)), [m + vans] * vans
        )
        self.model = pywrapcp.RoutingModel(self.manager)
        model = self.model
        cost = np.rint(driving * day.cost_per_s * SCALE).astype(np.int64)
        model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(cost.tolist()))
        transit = model.RegisterTransitMatrix((driving + service[:, None]).tolist())
        model.AddDimensionWithVehicleCapacity(
            transit, 0, [int(v.time_available_s) for v in p.vans], True, "time"
        )
        loads = np.concatenate([self.change, np.zeros(vans + 1, dtype=int)])
        model.AddDimensionWithVehicleCapacity(
            model.RegisterUnaryTransitVector(loads.tolist()),
            0,
            [v.capacity for v in p.vans],
            False,
            "load",
        )
        load_dim = model.GetDimensionOrDie("load")
        for v, spec in enumerate(p.vans):
            load_dim.CumulVar(model.Start(v)).SetValue(spec.load)
        self._offer_visits()

    def _offer_visits(self) -> None:
        """Each candidate optional at the price of its prize, with soft time bounds."""
        offer, time_dim = self.offer, self.model.GetDimensionOrDie("time")
        for k in range(len(offer.stations)):
            index = self.manager.NodeToIndex(k)
            self.model.AddDisjunction([index], round(offer.prize[k] * SCALE))
            late = round(offer.late_rate[k] * SCALE)
            if late > 0:
                time_dim.SetCumulVarSoftUpperBound(index, int(offer.late_from[k]), late)
            early = round(offer.early_rate[k] * SCALE)
            if early > 0 and offer.early_from[k] >= 1.0:
                time_dim.SetCumulVarSoftLowerBound(index, int(offer.early_from[k]), early)

    def solve(self, time_limit: float, start: Plan | None) -> Plan | None:
        """Run the search, from `start`'s stops among the candidates when it fits."""
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = (
            routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        )
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(int(time_limit * 1000))
        self.model.CloseModelWithParameters(params)
        solution = None
        initial = None if start is None else self._assignment(start)
        if initial is not None:
            solution = self.model.SolveFromAssignmentWithParameters(initial, params)
        if solution is None:
            solution = self.model.SolveWithParameters(params)
        if solution is None:
            return None
        return self._plan(routes_of(self.model, self.manager, solution))

    def _assignment(self, start: Plan) -> pywrapcp.Assignment | None:
        """A known plan as a solution, keeping only its stops the model knows."""
        where = {int(s): k for k, s in enumerate(self.offer.stations)}
        routes = [[where[s] for s, _, _ in stops if s in where] for stops in start]
        return assignment_of(self.model, self.manager, routes)

    def _plan(self, routes: list[list[int]]) -> Plan:
        """Routes of candidate nodes as stops (station, change, reserved) per van."""
        stations = self.offer.stations
        return [
            [(int(stations[k]), int(self.change[k]), int(self.reserved[k])) for k in route]
            for route in routes
        ]
