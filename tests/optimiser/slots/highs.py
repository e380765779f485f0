"""The reference optimum of a slots problem by scipy's HiGHS, LP or MILP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from tests.optimiser.slots.reading import Problem, Request, requests, room


@dataclass(frozen=True)
class Optimum:
    unassigned: float
    weighted_shift: float
    integral: bool  # the solver's vertex had integer values everywhere


def _columns(problem: Problem) -> tuple[list[tuple[int, int]], list[Request]]:
    asked = requests(problem)
    cells = [
        (n, slot)
        for n, request in enumerate(asked)
        for slot in range(request.earliest, request.latest + 1)
    ]
    return cells, asked


def highs_optimum(problem: Problem, integer: bool) -> Optimum:
    """Lexicographic optimum (fewest unassigned, then least weighted shift) by HiGHS.

    Variables: people of request n in slot t (one 0/1 per slot for whole requests);
    `integer=False` solves the LP relaxation (linprog), True the MILP (milp).
    """
    cells, asked = _columns(problem)
    free = room(problem)
    people = np.array([asked[n].size if asked[n].whole else 1 for n, _ in cells], float)
    upper = np.array([1 if asked[n].whole else asked[n].size for n, _ in cells], float)
    cost = np.array([asked[n].weight * abs(t - asked[n].preferred) for n, t in cells]) * people
    rows, bounds = [], []
    for n, request in enumerate(asked):
        rows.append([1.0 if m == n else 0.0 for m, _ in cells])
        bounds.append(1 if request.whole else request.size)
    for resource, rooms in free.items():
        for slot, left in enumerate(rooms):
            row = [
                people[k] if t == slot and resource in asked[n].resources else 0.0
                for k, (n, t) in enumerate(cells)
            ]
            if any(row):
                rows.append(row)
                bounds.append(left)
    matrix, limit = np.array(rows), np.array(bounds, float)
    total = sum(r.size for r in asked)
    first = _solve(-people, matrix, limit, upper, integer)
    placed = round(-first.fun)  # integral: TU matrix (LP) or integer variables (MILP)
    assert abs(placed + first.fun) < 1e-6
    # Phase 2: hold the people placed, minimise the weighted shift.
    matrix2 = np.vstack([matrix, -people])
    limit2 = np.append(limit, -placed)
    second = _solve(cost, matrix2, limit2, upper, integer)
    integral = bool(np.allclose(second.x, np.round(second.x), atol=1e-6))
    return Optimum(total - placed, float(second.fun), integral)


def _solve(c: np.ndarray, a: np.ndarray, b: np.ndarray, upper: np.ndarray, integer: bool) -> Any:
    if integer:
        result = milp(
            c,
            constraints=LinearConstraint(a, -np.inf, b),
            bounds=Bounds(0, upper),
            integrality=np.ones(c.size),
            options={"mip_rel_gap": 0.0},
        )
    else:
        result = linprog(c, A_ub=a, b_ub=b, bounds=list(zip([0] * c.size, upper, strict=True)))
    assert result.success, result.message
    return result
