"""A lower bound for the night run: the LP relaxation of the routing with cutting planes.

Variables x[i, j] in [0, 1] for the arcs a van may drive (arcs between stations that
no load allows are left out); each station has one arc in and one out; the depot as
many in as out (at most the fleet). Rounds of cuts follow, each valid for every
feasible solution: for a set S of stations, the arcs leaving S must number at least
max(1, ceil(|sum of q over S| / Q)) (vehicles leave S carrying what S picked up, at
most Q each, and symmetrically bring what S needs). Sets come from the connected
components of the LP support and from minimum cuts separating the depot from each
station. Solved with GLOP; the bound is the last LP value, valid whenever the LP
solved to optimality.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import ortools.linear_solver.pywraplp as pywraplp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, maximum_flow

from optimiser.mobility.static.exact import arc_possible

_EPS = 1e-6
_FLOW_SCALE = 1_000_000


def _arcs(changes: Sequence[int], capacity: int) -> list[tuple[int, int]]:
    size = len(changes)
    return [
        (i, j)
        for i in range(size)
        for j in range(size)
        if i != j and (i == 0 or j == 0 or arc_possible(i, j, list(changes), capacity))
    ]


def _cut_sets(size: int, values: dict[tuple[int, int], float]) -> list[frozenset[int]]:
    """Candidate sets S (without the depot) from the fractional solution."""
    rows, cols, caps = [], [], []
    for (i, j), v in values.items():
        if v > _EPS:
            rows.append(i)
            cols.append(j)
            caps.append(v)
    support = csr_matrix((caps, (rows, cols)), shape=(size, size))
    sets: list[frozenset[int]] = []
    count, labels = connected_components(support, directed=True, connection="weak")
    depot_label = labels[0]
    for label in range(count):
        if label != depot_label:
            sets.append(frozenset(np.flatnonzero(labels == label).tolist()))
    scaled = csr_matrix(
        (np.rint(np.array(caps) * _FLOW_SCALE).astype(np.int32), (rows, cols)), shape=(size, size)
    )
    for target in range(1, size):
        if labels[target] != depot_label:
            continue
        result = maximum_flow(scaled, 0, target)
        if result.flow_value >= _FLOW_SCALE - 1000:
            continue
        residual = scaled - result.flow
        reach = _reachable(residual, 0)
        sets.append(frozenset(k for k in range(1, size) if k not in reach))
    return sets


def _reachable(residual: csr_matrix, source: int) -> set[int]:
    seen, stack = {source}, [source]
    residual = residual.tocsr()
    while stack:
        node = stack.pop()
        start, end = residual.indptr[node], residual.indptr[node + 1]
        for k in range(start, end):
            nxt = int(residual.indices[k])
            if residual.data[k] > 0 and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def lp_bound(
    cost: Sequence[Sequence[int]],
    changes: Sequence[int],
    capacity: int,
    fleet_size: int | None,
    time_limit: float,
) -> float:
    """A valid lower bound on the optimal travel cost (0.0 if even the first LP fails)."""
    began = time.monotonic()
    size = len(changes)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    arcs = _arcs(changes, capacity)
    x = {(i, j): solver.NumVar(0.0, 1.0, "") for i, j in arcs}
    for node in range(1, size):
        solver.Add(sum(x[a] for a in arcs if a[1] == node) == 1)
        solver.Add(sum(x[a] for a in arcs if a[0] == node) == 1)
    leaving = [x[a] for a in arcs if a[0] == 0]
    solver.Add(sum(leaving) == sum(x[a] for a in arcs if a[1] == 0))
    if fleet_size is not None:
        solver.Add(sum(leaving) <= fleet_size)
    solver.Minimize(sum(cost[i][j] * var for (i, j), var in x.items()))
    bound, added = 0.0, set()
    while time.monotonic() - began < time_limit:
        if solver.Solve() != pywraplp.Solver.OPTIMAL:
            break
        bound = solver.Objective().Value()
        values = {a: var.solution_value() for a, var in x.items()}
        fresh = 0
        for members in _cut_sets(size, values):
            if not members or members in added:
                continue
            need = max(1, math.ceil(abs(sum(changes[k] for k in members)) / capacity))
            out = [a for a in arcs if a[0] in members and a[1] not in members]
            if sum(values[a] for a in out) < need - 1e-4:
                solver.Add(sum(x[a] for a in out) >= need)
                added.add(members)
                fresh += 1
        if fresh == 0:
            break
    return bound
