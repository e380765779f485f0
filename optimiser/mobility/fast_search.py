"""An iterated local search on the giant tour with don't-look bits, for the night run.

The tour is a list from the depot back to the depot, where every inner 0 is a depot
visit between two vans' routes. A move is priced in O(1) from the arc costs and prefix
sums of the arc costs walked forward and backward (so a reversed stretch of an
asymmetric matrix is priced exactly); only a move that lowers the cost is built and
checked for capacity, route by route (improving moves are rare among those priced).

* or-opt: a stretch of 1-3 stations moved, either way round, next to one of the nearest
  stations of its ends, in its own route or another;
* 2-opt: a stretch reversed, a new arc joining near stations; the stretch may hold
  depot visits, and then the ends of two routes are swapped (2-opt* between routes);
* merge: a depot visit dropped when one van can do both routes.

Only stations whose arcs changed are looked at again (don't-look bits), so the descent
after a local kick costs a few milliseconds. The kick is a double bridge A B C D ->
A C B D on three cuts close to each other, drawn again (up to 20 times) while it breaks
the capacity; failing that, the joints become depot visits, A 0 C 0 B 0 D, which is
always feasible (any stretch of a feasible route is a feasible route, the start load
being free).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from itertools import accumulate, pairwise
from operator import getitem

_NEIGHBOURS = 10
_KICK_REACH = 30
_KICK_TRIES = 20
_OR_OPT_LENGTHS = (1, 2, 3)


class FastTour:
    """Costs, changes, capacity and neighbour lists of one instance, and the search."""

    def __init__(self, cost: Sequence[Sequence[int]], changes: Sequence[int], capacity: int):
        self.c = [[int(x) for x in row] for row in cost]
        self.q = [int(x) for x in changes]
        self.ct = [list(col) for col in zip(*self.c, strict=True)]  # ct[b][a] = c[a][b]
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
        # The running sum over the whole tour (the depot changes nothing) sliced route by
        # route: max/min over slices run in C, several times faster than a Python loop.
        level = list(accumulate(map(self.q.__getitem__, tour)))
        cap, start, n = self.capacity, 0, len(level)
        while start < n - 1:
            try:
                end = tour.index(0, start + 1)
            except ValueError:
                end = n - 1
            route = level[start : end + 1]
            if max(route) - min(route) > cap:
                return False
            start = end
        return True

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
        for length in _OR_OPT_LENGTHS:
            found = self._or_opt(t, ix, v, length)
            if found is not None:
                return found
        return self._two_opt(t, ix, v)

    def _or_opt(
        self, t: list[int], ix: _Index, v: int, length: int
    ) -> tuple[list[int], list[int]] | None:
        # The innermost loop of the search: rows and columns fetched once, no tuples built.
        c, pos = self.c, ix.pos
        i = pos[v]
        e = i + length - 1
        if e >= len(t) - 1 or t[e] == 0 or ix.route[e] != ix.route[i]:
            return None
        s0, s1, before, after = t[i], t[e], t[i - 1], t[e + 1]
        removal = c[before][after] - c[before][s0] - c[s1][after]
        turned = removal + (ix.bwd[e] - ix.bwd[i]) - (ix.fwd[e] - ix.fwd[i])
        from0, from1, to0, to1 = c[s0], c[s1], self.ct[s0], self.ct[s1]
        joints = [before, after, s0, s1]
        for w in self.near[s0]:
            j = pos[w]
            if not i - 1 <= j <= e:  # w -> s0 ... s1 -> b
                b = t[j + 1]
                if (
                    to0[w] + from1[b] - c[w][b] + removal < 0
                    and (new := _moved(self, t, i, e, j, False)) is not None
                ):
                    return new, [*joints, w, b]
            j -= 1
            if not i - 1 <= j <= e:  # a -> s1 ... s0 -> w
                a = t[j]
                if (
                    to1[a] + from0[w] - c[a][w] + turned < 0
                    and (new := _moved(self, t, i, e, j, True)) is not None
                ):
                    return new, [*joints, a, w]
        for w in self.near[s1]:
            j = pos[w] - 1
            if not i - 1 <= j <= e:  # a -> s0 ... s1 -> w
                a = t[j]
                if (
                    to0[a] + from1[w] - c[a][w] + removal < 0
                    and (new := _moved(self, t, i, e, j, False)) is not None
                ):
                    return new, [*joints, a, w]
            j += 1
            if not i - 1 <= j <= e:  # w -> s1 ... s0 -> b
                b = t[j + 1]
                if (
                    to1[w] + from0[b] - c[w][b] + turned < 0
                    and (new := _moved(self, t, i, e, j, True)) is not None
                ):
                    return new, [*joints, w, b]
        return None

    def _two_opt(self, t: list[int], ix: _Index, v: int) -> tuple[list[int], list[int]] | None:
        c, pos, fwd, bwd = self.c, ix.pos, ix.fwd, ix.bwd
        k = pos[v]
        pairs = []
        for w in self.near[v]:
            pairs.append((k + 1, pos[w]))  # v -> w: reverse t[k+1 .. pos w]
            pairs.append((k, pos[w] - 1))  # v -> w: reverse t[k .. pos w - 1]
        for a, b in pairs:
            if a >= b or t[a] == 0 or t[b] == 0:
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

    def kick(
        self, tour: list[int], rng: random.Random, split_share: float = 0.0
    ) -> tuple[list[int], list[int]]:
        """A local double bridge; returns the kicked tour and the stations at its joints.

        Most double bridges break the capacity, and the depot visits that then make the
        kicked tour feasible are seldom merged away by the descent (half the kicks were
        lost so): up to _KICK_TRIES bridges are drawn before falling back to them. A
        `split_share` of the kicks makes the depot visits anyway: they explore solutions
        of several routes, which single-route kicks never reach.
        """
        n = len(tour)
        if n < 8:
            return tour, []
        split = split_share > 0 and rng.random() < split_share
        for _ in range(1 if split else _KICK_TRIES):
            a = rng.randrange(1, n - 3)
            b, c = sorted(rng.sample(range(1, min(_KICK_REACH, n - 1 - a) + 1), 2))
            b, c = a + b, a + c
            kicked = tour[:a] + tour[b:c] + tour[a:b] + tour[c:]
            if not split and self.feasible(kicked):
                break
        else:
            kicked = [*tour[:a], 0, *tour[b:c], 0, *tour[a:b], 0, *tour[c:]]
        joints = [tour[a - 1], tour[a], tour[b - 1], tour[b], tour[c - 1], tour[c]]
        return _clean(kicked), joints


class _Index:
    """Positions, route numbers and forward/backward cost prefix sums of one tour."""

    def __init__(self, tours: FastTour, t: list[int]) -> None:
        c = tours.c
        # Built with map/zip/accumulate (C loops): rebuilt after every applied move.
        self.pos = dict(zip(t, range(len(t)), strict=True))  # the depot: its last visit
        self.route = list(accumulate(map((0).__eq__, t)))
        rows = list(map(c.__getitem__, t))
        self.fwd = [0, *accumulate(map(getitem, rows, t[1:]))]
        self.bwd = [0, *accumulate(map(getitem, rows[1:], t))]


def _moved(
    tours: FastTour, t: list[int], i: int, e: int, j: int, reverse: bool
) -> list[int] | None:
    """t with t[i..e] (reversed or not) moved after position j, if that is feasible."""
    stretch = t[i : e + 1][::-1] if reverse else t[i : e + 1]
    if j < i:
        new = t[: j + 1] + stretch + t[j + 1 : i] + t[e + 1 :]
    else:
        new = t[:i] + t[e + 1 : j + 1] + stretch + t[j + 1 :]
    return new if tours.feasible(new) else None


def _clean(tour: list[int]) -> list[int]:
    """Depot at both ends, no empty routes."""
    if tour[0] == 0 and tour[-1] == 0 and tour.count(0) == 2 and len(tour) > 2:
        return tour  # one route: nothing to clean (the common case)
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
    split_share: float = 0.0,
) -> tuple[list[list[int]], int]:
    """Iterated local search from feasible routes; returns the best routes and the kicks.

    A kicked tour becomes the current one when its cost is at most `slack` (a share) above
    the best; the best tour is kept apart. `split_share`: see `FastTour.kick`.
    """
    deadline = time.monotonic() + time_limit
    tours = FastTour(cost, changes, capacity)
    rng = random.Random(seed)
    best = tours.descend(tours.from_routes(start))
    best_cost, kicks = tours.total(best), 0
    current, current_cost = best, best_cost
    while time.monotonic() < deadline and len(best) >= 8:
        kicked, joints = tours.kick(current, rng, split_share)
        found = tours.descend(kicked, set(joints))
        kicks += 1
        if max_routes is not None and found.count(0) - 1 > max_routes:  # clean: no empties
            continue
        found_cost = tours.total(found)
        if found_cost <= current_cost or found_cost <= best_cost * (1.0 + slack):
            current, current_cost = found, found_cost
        if found_cost <= best_cost:
            best, best_cost = found, found_cost
    return tours.to_routes(best), kicks
