"""Exact static rebalancing with CP-SAT: a multiple-circuit model with load variables.

Node 0 is the depot and may be left several times (one circuit per van); every station
has exactly one successor and one predecessor. `load[i]` is the van's load after visiting
station i; an arc i -> j between stations forces load[j] = load[i] + q[j], and the domain
of load[j] alone encodes a free start load (0 <= load[j] - q[j] <= Q).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ortools.sat.python import cp_model

from optimiser.mobility.routes import load_window


@dataclass(frozen=True)
class ExactResult:
    """What CP-SAT found: routes (station nodes, depot left out), objective and bound."""

    routes: list[list[int]] | None
    objective: int | None
    bound: float
    optimal: bool


def arc_possible(i: int, j: int, changes: list[int], capacity: int) -> bool:
    """Whether some load lets a van go from station i straight to station j."""
    low_i, high_i = load_window(changes[i], capacity)
    low_j, high_j = load_window(changes[j], capacity)
    # load[j] = load[i] + q[j] must land in j's window.
    return max(low_i, low_j - changes[j]) <= min(high_i, high_j - changes[j])


def _add_hint(
    model: cp_model.CpModel,
    arcs: dict[tuple[int, int], cp_model.IntVar],
    load: dict[int, cp_model.IntVar],
    hint: list[list[int]],
    changes: list[int],
    capacity: int,
) -> None:
    """Hint the arcs of a known solution and loads consistent with them."""
    used: set[tuple[int, int]] = set()
    for route in hint:
        path = [0, *route, 0]
        used.update(itertools.pairwise(path))
        prefix = [0]
        for node in route:
            prefix.append(prefix[-1] + changes[node])
        start = max(0, -min(prefix))
        for node, level in zip(route, prefix[1:], strict=True):
            model.add_hint(load[node], start + level)
    for key, literal in arcs.items():
        model.add_hint(literal, key in used)


def _add_flow(
    model: cp_model.CpModel,
    arcs: dict[tuple[int, int], cp_model.IntVar],
    changes: list[int],
    capacity: int,
) -> None:
    """Redundant load-flow constraints: they give CP-SAT's LP relaxation the capacity cuts.

    flow[i, j] is the load carried on arc i -> j, between the least it must be (what i
    picked up, what j will deliver) and the most it may be, times the arc literal.
    """
    flows: dict[tuple[int, int], cp_model.IntVar] = {}
    for (i, j), literal in arcs.items():
        low = max(max(changes[i], 0), max(-changes[j], 0))
        high = capacity - max(max(changes[j], 0), max(-changes[i], 0))
        flows[i, j] = model.new_int_var(0, high, f"f{i}_{j}")
        model.add(flows[i, j] >= low * literal)
        model.add(flows[i, j] <= high * literal)
    for node in range(1, len(changes)):
        out = sum(f for (i, _), f in flows.items() if i == node)
        into = sum(f for (_, j), f in flows.items() if j == node)
        model.add(out - into == changes[node])


def solve_exact(
    cost: list[list[int]],
    changes: list[int],
    capacity: int,
    fleet_size: int | None,
    time_limit: float,
    hint: list[list[int]] | None = None,
    workers: int = 2,
    flow: bool = False,
) -> ExactResult:
    """Solve to optimality if the time limit allows; otherwise report the best found and bound."""
    size = len(changes)
    model = cp_model.CpModel()
    load = {
        i: model.new_int_var(*load_window(changes[i], capacity), f"load{i}") for i in range(1, size)
    }
    arcs: dict[tuple[int, int], cp_model.IntVar] = {}
    for i in range(size):
        for j in range(size):
            if i == j or (i and j and not arc_possible(i, j, changes, capacity)):
                continue
            arcs[i, j] = model.new_bool_var(f"x{i}_{j}")
            if i and j:
                model.add(load[j] == load[i] + changes[j]).only_enforce_if(arcs[i, j])
    if flow:
        _add_flow(model, arcs, changes, capacity)
    model.add_multiple_circuit([(i, j, lit) for (i, j), lit in arcs.items()])
    if fleet_size is not None:
        model.add(sum(arcs[0, j] for j in range(1, size)) <= fleet_size)
    model.minimize(sum(cost[i][j] * lit for (i, j), lit in arcs.items()))
    if hint:
        _add_hint(model, arcs, load, hint, changes, capacity)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.linearization_level = 2
    status = solver.solve(model)
    bound = float(solver.best_objective_bound)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactResult(
            None, None, bound if status != cp_model.INFEASIBLE else float("inf"), False
        )
    succ = {i: j for (i, j), lit in arcs.items() if solver.value(lit)}
    routes = []
    for (i, j), lit in arcs.items():
        if i == 0 and solver.value(lit):
            route, node = [], j
            while node != 0:
                route.append(node)
                node = succ[node]
            routes.append(route)
    objective = round(solver.objective_value)
    return ExactResult(routes, objective, bound, status == cp_model.OPTIMAL)
