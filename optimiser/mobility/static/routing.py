"""Static rebalancing with the OR-Tools routing solver.

One vehicle per possible route (the fleet size, or one per station when the fleet is
unlimited: unused vans cost nothing). The load is a dimension whose start cumul is left
free in [0, Q]: the van leaves the depot with whatever load the route needs, and every
cumul (the load before each stop, and after the last) stays within [0, Q].
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from optimiser.mobility.routing_solution import assignment_of, routes_of

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic
_BOOL = optional_boolean_pb2.OptionalBoolean


@dataclass(frozen=True)
class RoutingConfig:
    """Search settings for one routing run."""

    first_solution: str = "PATH_CHEAPEST_ARC"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    lambda_coefficient: float | None = None
    neighbors_ratio: float | None = None  # operators only look at this share of near nodes
    operators: dict[str, bool] = field(default_factory=dict)


PLAIN = RoutingConfig(first_solution="AUTOMATIC", metaheuristic="GUIDED_LOCAL_SEARCH")


@dataclass
class RoutingModel:
    """A built routing model for one instance, reusable across runs."""

    cost: Sequence[Sequence[int]]
    changes: Sequence[int]
    capacity: int
    vehicles: int
    manager: pywrapcp.RoutingIndexManager = field(init=False)
    model: pywrapcp.RoutingModel = field(init=False)
    closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.manager = pywrapcp.RoutingIndexManager(len(self.changes), self.vehicles, 0)
        self.model = pywrapcp.RoutingModel(self.manager)
        # Matrix and vector transits run in C++: no Python callback per arc evaluation.
        arc_cost = self.model.RegisterTransitMatrix([list(row) for row in self.cost])
        self.model.SetArcCostEvaluatorOfAllVehicles(arc_cost)
        change = self.model.RegisterUnaryTransitVector(list(self.changes))
        self.model.AddDimension(change, 0, self.capacity, False, "load")

    def solve(
        self,
        config: RoutingConfig,
        time_limit: float,
        start: Sequence[Sequence[int]] | None = None,
    ) -> list[list[int]] | None:
        """Run the search; from `start` routes when given. Returns routes of station nodes."""
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(_FIRST, config.first_solution)
        params.local_search_metaheuristic = getattr(_META, config.metaheuristic)
        if config.lambda_coefficient is not None:
            params.guided_local_search_lambda_coefficient = config.lambda_coefficient
        if config.neighbors_ratio is not None:
            params.ls_operator_neighbors_ratio = config.neighbors_ratio
            params.ls_operator_min_neighbors = 8
        for name, enabled in config.operators.items():
            setattr(
                params.local_search_operators,
                name,
                _BOOL.BOOL_TRUE if enabled else _BOOL.BOOL_FALSE,
            )
        params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
        if start is not None:
            if not self.closed:
                self.model.CloseModelWithParameters(params)
                self.closed = True
            initial = assignment_of(self.model, self.manager, start)
            if initial is None:
                return None
            solution = self.model.SolveFromAssignmentWithParameters(initial, params)
        else:
            solution = self.model.SolveWithParameters(params)
        self.closed = True
        if solution is None:
            return None
        return [route for route in routes_of(self.model, self.manager, solution) if route]


def solve_routing(
    cost: Sequence[Sequence[int]],
    changes: Sequence[int],
    capacity: int,
    vehicles: int,
    time_limit: float,
    config: RoutingConfig,
    start: Sequence[Sequence[int]] | None = None,
) -> list[list[int]] | None:
    """Build and run one routing search."""
    began = time.monotonic()
    model = RoutingModel(cost, changes, capacity, vehicles)
    remaining = time_limit - (time.monotonic() - began)
    return model.solve(config, remaining, start)
