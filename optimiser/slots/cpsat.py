"""CP-SAT for groups that use several resources at once or must be kept whole.

x[g, t] = units of group g in slot t (a unit is one person, or the whole group when it
is kept whole) and u[g] = units left unassigned, with sum_t x[g, t] + u[g] = count[g]:
an exact equality per group, which propagates far better than one global count. Two
phases make the objective lexicographic: first the fewest people unassigned, then,
holding that number, the least weighted shift. Each phase starts from the previous
answer (the greedy plan for the first), so a phase cut short by the deadline still
returns a plan at least as good as the one it started from.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from ortools.sat.python import cp_model

from optimiser.slots.assignment import Assignment
from optimiser.slots.instance import Instance

_FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)
Cell = tuple[int, int, cp_model.IntVar]  # (group, slot, units placed there)


@dataclass(frozen=True)
class CpsatResult:
    assignment: Assignment
    found: bool  # CP-SAT returned a plan (otherwise `assignment` is the start, unchanged)
    optimal: bool  # both phases proved
    unassigned_bound: int  # proved lower bound on the people unassigned
    bound_milli: int | None  # proved lower bound on the weighted shift (thousandths)
    variables: int
    build_ms: float
    solve_ms: float


@dataclass
class _Model:
    model: cp_model.CpModel
    cells: list[Cell]
    left: dict[int, cp_model.IntVar]  # units of group g unassigned
    unassigned: cp_model.LinearExprT  # people unassigned
    shift: cp_model.LinearExprT  # weighted shift, thousandths


def _cells(instance: Instance, model: cp_model.CpModel) -> list[Cell]:
    """One variable per (group, slot in its window) where a unit of the group fits."""
    groups, room = instance.groups, instance.residual
    cells: list[Cell] = []
    for g in range(groups.size):
        members = list(instance.resource_sets[int(groups.set_id[g])])
        unit, count = int(groups.unit[g]), int(groups.count[g])
        for slot in range(int(groups.earliest[g]), int(groups.latest[g]) + 1):
            upper = min(count, int(room[members, slot].min()) // unit)
            if upper > 0:
                cells.append((g, slot, model.new_int_var(0, upper, f"x{g}_{slot}")))
    return cells


def _capacity(instance: Instance, model: cp_model.CpModel, cells: list[Cell]) -> None:
    """Room left per (resource, slot), where the cells could overfill it."""
    groups, room = instance.groups, instance.residual
    load: dict[tuple[int, int], list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    most: dict[tuple[int, int], int] = defaultdict(int)
    for g, slot, units in cells:
        members = instance.resource_sets[int(groups.set_id[g])]
        unit, count = int(groups.unit[g]), int(groups.count[g])
        upper = min(count, int(room[list(members), slot].min()) // unit)
        for resource in members:
            load[resource, slot].append((units, unit))
            most[resource, slot] += unit * upper
    for (resource, slot), terms in load.items():
        if most[resource, slot] > room[resource, slot]:
            model.add(sum(unit * units for units, unit in terms) <= int(room[resource, slot]))


def _build(instance: Instance) -> _Model:
    groups = instance.groups
    model = cp_model.CpModel()
    cells = _cells(instance, model)
    _capacity(instance, model, cells)
    own: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for g, _, units in cells:
        own[g].append(units)
    left = {}
    for g in range(groups.size):
        count = int(groups.count[g])
        left[g] = model.new_int_var(0, count, f"u{g}")
        model.add(sum(own[g]) + left[g] == count)
    unassigned = cp_model.LinearExpr.weighted_sum(
        list(left.values()), [int(groups.unit[g]) for g in left]
    )
    costs = [
        int(groups.weight_milli[g] * groups.unit[g] * abs(slot - groups.preferred[g]))
        for g, slot, _ in cells
    ]
    shift = cp_model.LinearExpr.weighted_sum([units for _, _, units in cells], costs)
    return _Model(model, cells, left, unassigned, shift)


def _hint(built: _Model, instance: Instance, start: dict[tuple[int, int], int]) -> None:
    built.model.clear_hints()
    placed: dict[int, int] = defaultdict(int)
    for g, slot, units in built.cells:
        built.model.add_hint(units, start.get((g, slot), 0))
        placed[g] += start.get((g, slot), 0)
    for g, left in built.left.items():
        built.model.add_hint(left, int(instance.groups.count[g]) - placed[g])


def _values(built: _Model, solver: cp_model.CpSolver) -> dict[tuple[int, int], int]:
    return {(g, slot): int(solver.value(units)) for g, slot, units in built.cells}


def _as_assignment(values: dict[tuple[int, int], int]) -> Assignment:
    keys = list(values)
    return Assignment.of([g for g, _ in keys], [t for _, t in keys], list(values.values()))


def _run(built: _Model, seconds: float, workers: int) -> tuple[cp_model.CpSolver, Any]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.001)
    solver.parameters.num_workers = workers
    return solver, solver.solve(built.model)


def solve_cpsat(
    instance: Instance, seconds: float, start: Assignment, workers: int = 8
) -> CpsatResult:
    """Lexicographic optimum within `seconds`, starting from the feasible `start`."""
    began = perf_counter()
    built = _build(instance)
    built_at = perf_counter()
    deadline = began + seconds
    current = {
        (int(g), int(t)): int(u)
        for g, t, u in zip(start.group, start.slot, start.units, strict=True)
    }
    unplaced = start.unassigned_people(instance)
    # Nothing placeable, or everyone placed: the start's count is proved minimal.
    unplaced_bound = unplaced if unplaced == 0 or not built.cells else 0
    found = not built.cells
    if unplaced_bound < unplaced:
        # Phase 1: fewest people unassigned.
        built.model.minimize(built.unassigned)
        _hint(built, instance, current)
        solver, status = _run(built, (deadline - perf_counter()) / 2, workers)
        if status in _FOUND:
            current, unplaced = _values(built, solver), round(solver.objective_value)
            found = True
        unplaced_bound = _lower_bound(solver)
    proved_unplaced = unplaced_bound >= unplaced
    # Phase 2: least weighted shift, leaving no more people unassigned.
    built.model.clear_objective()
    built.model.add(built.unassigned <= unplaced)
    built.model.minimize(built.shift)
    _hint(built, instance, current)
    bound: int | None = 0 if not built.cells else None
    if built.cells:
        solver, status = _run(built, deadline - perf_counter(), workers)
        if status in _FOUND:
            current, found = _values(built, solver), True
            bound = _lower_bound(solver)
    optimal = proved_unplaced and bound is not None and bound == _objective(instance, current)
    return CpsatResult(
        assignment=_as_assignment(current),
        found=found,
        optimal=optimal,
        unassigned_bound=min(unplaced_bound, unplaced),
        bound_milli=bound,
        variables=len(built.cells) + len(built.left),
        build_ms=(built_at - began) * 1000,
        solve_ms=(perf_counter() - built_at) * 1000,
    )


def _lower_bound(solver: cp_model.CpSolver) -> int:
    """The proved bound as an integer (objectives are integers), 0 when there is none."""
    bound = solver.best_objective_bound
    return max(0, math.ceil(bound - 1e-6)) if math.isfinite(bound) else 0


def _objective(instance: Instance, values: dict[tuple[int, int], int]) -> int:
    return _as_assignment(values).weighted_shift_milli(instance)
