"""Routes in and out of an OR-Tools routing model, for the night run's and the day run's.

A route here is the list of the nodes a vehicle visits, in order, without its start and
end nodes. `routes_of` reads them from a solution; `assignment_of` turns them into a
solution a search can start from.
"""

from __future__ import annotations

from collections.abc import Sequence

from ortools.constraint_solver import pywrapcp


def routes_of(
    model: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    solution: pywrapcp.Assignment,
) -> list[list[int]]:
    """The nodes each vehicle visits, one list per vehicle (empty when it stays put)."""
    routes = []
    for vehicle in range(model.vehicles()):
        index = solution.Value(model.NextVar(model.Start(vehicle)))
        route = []
        while not model.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        routes.append(route)
    return routes


def assignment_of(
    model: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    routes: Sequence[Sequence[int]],
) -> pywrapcp.Assignment | None:
    """The solution that drives `routes` (vehicles beyond them stay put), None if infeasible.

    The model must be closed.
    """
    # RoutesToAssignment sets the next variables without a search (ReadAssignmentFromRoutes
    # runs one under the model's limits and stops working after a few timed solves).
    indices = [[manager.NodeToIndex(node) for node in route] for route in routes]
    indices += [[] for _ in range(model.vehicles() - len(indices))]
    assignment = model.solver().Assignment()
    if not model.RoutesToAssignment(indices, True, True, assignment):
        return None
    return assignment
