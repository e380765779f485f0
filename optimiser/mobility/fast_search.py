"""An iterated local search on the giant tour with don't-look bits, for the night run.

The tour is a list from the depot back to the depot, where every inner 0 is a depot
visit between two vans' routes. A move is priced in O(1) from the arc costs and prefix
sums of the arc costs walked forward and backward (so a reversed stretch of an
asymmetric matrix is priced exactly); only a move that lowers the cost is built and
checked for capacity, route by route (improving moves are rare among those priced).

* or-opt: a stretch of 1-3 stations moved, either way round, next to one of the nearest
  stations of its ends, in its own route or another;
* 2-opt: a stretch of a route reversed, a new arc joining near stations;
* merge: a depot visit dropped when one van can do both routes.

Only stations whose arcs changed are looked at again (don't-look bits), so the descent
after a local kick costs a few milliseconds. The kick is a double bridge A B C D ->
A C B D on three cuts close to each other; when that breaks the capacity, the joints
become depot visits, A 0 C 0 B 0 D, which is always feasible (any stretch of a feasible
route is a feasible route, the start load being free).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from itertools import accumulate, pairwise

_NEIGHBOURS = 10
_KICK_REACH = 30


class FastTour:
    """Costs, changes, capacity and neighbour lists of one instance, and the search."""

    def __init__(self, cost: Sequence[Sequence[int]], changes: Sequence[int], capacity: int):
        self.c = [[int(x) for x in row] for row in cost]
        self.q = [int(x) for x in changes]
        self.capacity = capacity
        size = len(self.q)
        self.near = [
            sorted(
                (w for w in range(1, size) if w != v), key=lambda w: self.c[v][w] + self.c[w][v]
            )[:_NEIGHBOURS]
            for v in range(size)
        ]

    # ------------------------------------------------------------ tours
    @staticmethod
    def from_routes(routes: Sequence[Sequence[int]]) -> list[int]:
        tour = [0]
        for route in routes:
            if route:
                tour += [*route, 0]
        return tour

    @staticmethod
    def to_routes(tour: Sequence[int]) -> list[list[int]]:
        routes: list[list[int]] = [[]]
        for node in tour[1:]:
            if node == 0:
                routes.append([])
            else:
                routes[-1].append(node)
        return [r for r in routes if r]

    def total(self, tour: Sequence[int]) -> int:
        c = self.c
        return sum(c[a][b] for a, b in pairwise(tour))

    def feasible(self, tour: Sequence[int]) -> bool:
        """Every route's running load spans at most the capacity."""
        q, cap = self.q, self.capacity
        level = low = high = 0
        for node in tour:
            if node == 0:
                if high - low > cap:
                    return False
                level = low = high = 0
                continue
            level += q[node]
            if level > high:
                high = level
            elif level < low:
                low = level
        return high - low <= cap

    # ------------------------------------------------------------ search
    def descend(self, tour: list[int], active: set[int] | None = None) -> list[int]:
        """Apply improving feasible moves until none is left around the active stations."""
        tour = _clean(tour)
        todo = set(range(1, len(self.q))) if active is None else set(active) - {0}
        while True:
            index = _Index(self, tour)
            while todo:
                v = todo.pop()
                found = self._improve(tour, index, v)
                if found is not None:
                    tour, touched = _clean(found[0]), found[1]
                    todo.update(x for x in touched if x != 0)
                    index = _Index(self, tour)
            merged = self._merge(tour)
            if merged is None:
                return tour
            tour, touched = _clean(merged[0]), merged[1]
            todo.update(x for x in touched if x != 0)

    def _improve(self, t: list[int], ix: _Index, v: int) -> tuple[list[int], list[int]] | None:
        for length in (1, 2, 3):
            found = self._or_opt(t, ix, v, length)
            if found is not None:
                return found
        return self._two_opt(t, ix, v)

    def _or_opt(
        self, t: list[int], ix: _Index, v: int, length: int
    ) -> tuple[list[int], list[int]] | None:
        c, pos, fwd, bwd = self.c, ix.pos, ix.fwd, ix.bwd
        i = pos[v]
        e = i + length - 1
        if e >= len(t) - 1 or t[e] == 0 or ix.route[e] != ix.route[i]:
            return None
        s0, s1, before, after = t[i], t[e], t[i - 1], t[e + 1]
        removal = c[before][after] - c[before][s0] - c[s1][after]
        inner_fwd, inner_bwd = fwd[e] - fwd[i], bwd[e] - bwd[i]
        candidates = []
        for w in self.near[s0]:
            candidates.append((pos[w], False))  # w -> s0 ... s1
            candidates.append((pos[w] - 1, True))  # s1 ... s0 -> w
        for w in self.near[s1]:
            candidates.append((pos[w] - 1, False))  # s0 ... s1 -> w
            candidates.append((pos[w], True))  # w -> s1 ... s0
        for j, reverse in candidates:
            if i - 1 <= j <= e:
                continue
            a, b = t[j], t[j + 1]
            if reverse:
                delta = c[a][s1] + c[s0][b] - c[a][b] + removal + inner_bwd - inner_fwd
            else:
                delta = c[a][s0] + c[s1][b] - c[a][b] + removal
            if delta >= 0:
                continue
            stretch = t[i : e + 1][::-1] if reverse else t[i : e + 1]
            if j < i:
                new = t[: j + 1] + stretch + t[j + 1 : i] + t[e + 1 :]
            else:
                new = t[:i] + t[e + 1 : j + 1] + stretch + t[j + 1 :]
            if self.feasible(new):
                return new, [before, after, a, b, s0, s1]
        return None

    def _two_opt(self, t: list[int], ix: _Index, v: int) -> tuple[list[int], list[int]] | None:
        c, pos, fwd, bwd, route = self.c, ix.pos, ix.fwd, ix.bwd, ix.route
        k = pos[v]
        pairs = []
        for w in self.near[v]:
            pairs.append((k + 1, pos[w]))  # v -> w: reverse t[k+1 .. pos w]
            pairs.append((k, pos[w] - 1))  # v -> w: reverse t[k .. pos w - 1]
        for a, b in pairs:
            if a >= b or route[a] != route[b] or t[a] == 0 or t[b] == 0:
                continue
            delta = (
                c[t[a - 1]][t[b]]
                + c[t[a]][t[b + 1]]
                - c[t[a - 1]][t[a]]
                - c[t[b]][t[b + 1]]
                + (bwd[b] - bwd[a])
                - (fwd[b] - fwd[a])
            )
            if delta >= 0:
                continue
            new = t[:a] + t[a : b + 1][::-1] + t[b + 1 :]
            if self.feasible(new):
                return new, [t[a - 1], t[a], t[b], t[b + 1]]
        return None

    def _merge(self, t: list[int]) -> tuple[list[int], list[int]] | None:
        c = self.c
        for z in range(1, len(t) - 1):
            if t[z] != 0:
                continue
            a, b = t[z - 1], t[z + 1]
            if a == 0 or b == 0 or c[a][b] - c[a][0] - c[0][b] >= 0:
                continue
            new = t[:z] + t[z + 1 :]
            if self.feasible(new):
                return new, [a, b]
        return None

    def kick(self, tour: list[int], rng: random.Random) -> tuple[list[int], list[int]]:
        """A local double bridge; returns the kicked tour and the stations at its joints."""
        n = len(tour)
        if n < 8:
            return tour, []
        a = rng.randrange(1, n - 3)
        b, c = sorted(rng.sample(range(1, min(_KICK_REACH, n - 1 - a) + 1), 2))
        b, c = a + b, a + c
        joints = [tour[a - 1], tour[a], tour[b - 1], tour[b], tour[c - 1], tour[c]]
        kicked = tour[:a] + tour[b:c] + tour[a:b] + tour[c:]
        if not self.feasible(kicked):
            kicked = [*tour[:a], 0, *tour[b:c], 0, *tour[a:b], 0, *tour[c:]]
        return _clean(kicked), joints


class _Index:
    """Positions, route numbers and forward/backward cost prefix sums of one tour."""

    def __init__(self, tours: FastTour, t: list[int]) -> None:
        c = tours.c
        self.pos = [0] * len(tours.q)
        for k, node in enumerate(t):
            if node:
                self.pos[node] = k
        self.route = list(accumulate(1 if node == 0 else 0 for node in t))
        self.fwd = [0, *accumulate(c[a][b] for a, b in pairwise(t))]
        self.bwd = [0, *accumulate(c[b][a] for a, b in pairwise(t))]


def _clean(tour: list[int]) -> list[int]:
    """Depot at both ends, no empty routes."""
    out = [0]
    for node in tour:
        if node != 0 or out[-1] != 0:
            out.append(node)
    if out[-1] != 0:
        out.append(0)
    return out


def fast_search(
    cost: Sequence[Sequence[int]],
    changes: Sequence[int],
    capacity: int,
    start: Sequence[Sequence[int]],
    time_limit: float,
    seed: int = 0,
    max_routes: int | None = None,
    slack: float = 0.0,
) -> tuple[list[list[int]], int]:
    """Iterated local search from feasible routes; returns the best routes and the kicks.

    A kicked tour becomes the current one when its cost is at most `slack` (a share) above
    the best; the best tour is kept apart.
    """
    deadline = time.monotonic() + time_limit
    tours = FastTour(cost, changes, capacity)
    rng = random.Random(seed)
    best = tours.descend(tours.from_routes(start))
    best_cost, kicks = tours.total(best), 0
    current, current_cost = best, best_cost
    while time.monotonic() < deadline and len(best) >= 8:
        kicked, joints = tours.kick(current, rng)
        found = tours.descend(kicked, set(joints))
        kicks += 1
        if max_routes is not None and len(tours.to_routes(found)) > max_routes:
            continue
        found_cost = tours.total(found)
        if found_cost <= current_cost or found_cost <= best_cost * (1.0 + slack):
            current, current_cost = found, found_cost
        if found_cost <= best_cost:
            best, best_cost = found, found_cost
    return tours.to_routes(best), kicks
