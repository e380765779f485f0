"""Route arithmetic shared by the solvers and the checks: costs, loads, feasibility."""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def load_window(change: int, capacity: int) -> tuple[int, int]:
    """Loads a van may hold after visiting a station with this change (before: load - change)."""
    return max(0, change), capacity + min(0, change)


def route_cost(cost: Sequence[Sequence[int]], route: Sequence[int]) -> int:
    """Cost of depot -> route -> depot (node 0 is the depot)."""
    path = [0, *route, 0]
    return sum(cost[a][b] for a, b in itertools.pairwise(path))


def start_load(route: Sequence[int], changes: Sequence[int], capacity: int) -> int | None:
    """The smallest feasible start load for the route, or None when no start load works."""
    level = low = high = 0
    for node in route:
        level += changes[node]
        low, high = min(low, level), max(high, level)
    return -low if high - low <= capacity else None


def total_cost(cost: Sequence[Sequence[int]], routes: Sequence[Sequence[int]]) -> int:
    """Cost of a whole solution."""
    return sum(route_cost(cost, r) for r in routes if r)


def cheaper(
    cost: Sequence[Sequence[int]],
    first: list[list[int]] | None,
    second: list[list[int]] | None,
) -> list[list[int]] | None:
    """The cheaper of two solutions (the first on a tie); None only if both are."""
    if first is None or second is None:
        return first if second is None else second
    return second if total_cost(cost, second) < total_cost(cost, first) else first
