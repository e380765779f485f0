"""An exact static solver by enumeration, written apart from the package's solvers.

Every ordered subset of stations is tried as one route (feasible when some start load
keeps every load in [0, Q], found by simulating each start load), then the cheapest
split of all stations into routes is found over subset partitions. Tiny instances only.
"""

from __future__ import annotations

from itertools import pairwise, permutations


def _route_feasible(order: tuple[int, ...], changes: list[int], capacity: int) -> bool:
    for start in range(capacity + 1):
        load, ok = start, True
        for node in order:
            load += changes[node]
            if not 0 <= load <= capacity:
                ok = False
                break
        if ok:
            return True
    return False


def _best_single_routes(cost: list[list[int]], changes: list[int], capacity: int) -> dict[int, int]:
    """Cheapest feasible depot-to-depot route cost for each subset (bitmask) of stations."""
    stations = list(range(1, len(changes)))
    best: dict[int, int] = {}
    for mask in range(1, 1 << len(stations)):
        members = [s for k, s in enumerate(stations) if mask >> k & 1]
        for order in permutations(members):
            if not _route_feasible(order, changes, capacity):
                continue
            path = (0, *order, 0)
            c = sum(cost[a][b] for a, b in pairwise(path))
            if c < best.get(mask, c + 1):
                best[mask] = c
    return best


def brute_force_optimum(
    cost: list[list[int]], changes: list[int], capacity: int, fleet_size: int | None = None
) -> int | None:
    """The optimal total cost, or None when no feasible solution exists."""
    count = len(changes) - 1
    single = _best_single_routes(cost, changes, capacity)
    vans = fleet_size if fleet_size is not None else count
    # best[(mask, k)]: cheapest cover of mask by at most k routes.
    inf = float("inf")
    memo: dict[tuple[int, int], float] = {(0, 0): 0}

    def cover(mask: int, k: int) -> float:
        if mask == 0:
            return 0
        if k == 0:
            return inf
        if (mask, k) in memo:
            return memo[mask, k]
        low = mask & -mask
        result = inf
        sub = mask
        while sub:
            if sub & low and sub in single:
                result = min(result, single[sub] + cover(mask ^ sub, k - 1))
            sub = (sub - 1) & mask
        memo[mask, k] = result
        return result

    total = cover((1 << count) - 1, vans)
    return None if total == inf else int(total)
