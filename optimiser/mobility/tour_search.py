"""A fast local search on the giant tour, vectorised with numpy, for the night run.

The solution is one cyclic sequence starting at the depot, where every further 0 is
a depot visit between two vans' routes. Within a route, P is the running sum of the
changes (0 at its depot); the route is feasible iff max P - min P <= Q (then a start
load of -min P works). For every candidate move the new extreme values of P follow
from prefix/suffix extremes and range queries (a table of range extremes), so each neighbourhood
is priced and checked for feasibility as a whole in a few array operations:

* or-opt: a stretch of 1-3 stations moved (possibly reversed) next to one of its
  nearest stations, in its own route or another;
* 2-opt: a stretch reversed within a route (asymmetric costs summed both ways);
* merge: two consecutive routes joined when one van can do both.

The best improving feasible move is applied until none is left. The iterated search
kicks the best tour with a double bridge whose three joints become depot visits (so the
kicked tour is always feasible) and keeps the result of the descent when no worse.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

import numpy as np

Move = tuple[int, Callable[[], np.ndarray] | None]  # cost change, and how to make it

_NEIGHBOURS = 12
_BIG = np.int64(1) << 60


class RangeTable:
    """O(1) range max/min queries over a short array (a full table: n^2 entries)."""

    def __init__(self, values: np.ndarray) -> None:
        n = len(values)
        below = np.tril(np.ones((n, n), dtype=bool), -1)  # b < a: outside any range [a, b]
        grid = np.broadcast_to(values, (n, n))
        self.high = np.maximum.accumulate(np.where(below, -_BIG, grid), axis=1)
        self.low = np.minimum.accumulate(np.where(below, _BIG, grid), axis=1)

    def query(self, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(max, min) over [start, end] inclusive; (-big, +big) where the range is empty."""
        empty = end < start
        s = np.where(empty, 0, start)
        e = np.where(empty, 0, end)
        return (
            np.where(empty, -_BIG, self.high[s, e]),
            np.where(empty, _BIG, self.low[s, e]),
        )


class GiantTour:
    """Costs, changes and neighbour lists of one instance."""

    def __init__(self, cost: Sequence[Sequence[int]], changes: Sequence[int], capacity: int):
        self.cost = np.asarray(cost, dtype=np.int64)
        self.changes = np.asarray(changes, dtype=np.int64)
        self.capacity = capacity
        size = len(changes)
        closeness = self.cost + self.cost.T + np.eye(size, dtype=np.int64) * _BIG
        self.near = np.argsort(closeness, axis=1)[:, : min(_NEIGHBOURS, size - 1)]

    # ---------------------------------------------------------------- conversions
    @staticmethod
    def from_routes(routes: Sequence[Sequence[int]]) -> np.ndarray:
        tour = [0]
        for route in routes:
            if route:
                tour += [*route, 0]
        return _clean(np.array(tour, dtype=np.int64))

    @staticmethod
    def to_routes(tour: np.ndarray) -> list[list[int]]:
        routes: list[list[int]] = []
        current: list[int] = []
        for node in tour[1:].tolist():
            if node == 0:
                if current:
                    routes.append(current)
                current = []
            else:
                current.append(node)
        if current:
            routes.append(current)
        return routes

    def total(self, tour: np.ndarray) -> int:
        return int(self.cost[tour, np.roll(tour, -1)].sum())

    def feasible(self, tour: np.ndarray) -> bool:
        state = _State(self, tour)
        return bool(np.all(state.route_high - state.route_low <= self.capacity))

    # ---------------------------------------------------------------- search
    def descend(self, tour: np.ndarray, deadline: float) -> np.ndarray:
        """Apply best improving feasible moves until none is left (or time is up)."""
        while time.monotonic() < deadline:
            state = _State(self, tour)
            moves = [state.or_opt(length) for length in (1, 2, 3)]
            moves += [state.two_opt(), state.merge()]
            delta, make = min(moves, key=lambda m: m[0])
            if delta >= 0 or make is None:
                return tour
            tour = _clean(make())
        return tour

    def kick(self, tour: np.ndarray, rng: random.Random, reach: int = 30) -> np.ndarray:
        """Double bridge A B C D -> A 0 C 0 B 0 D: every piece keeps a feasible load profile.

        The three cuts fall within `reach` positions of each other: a local kick that the
        descent can repair, rather than a new random tour.
        """
        n = len(tour)
        if n < 8:
            return tour
        span = min(reach, n - 2)
        a = rng.randrange(1, n - 2)
        b, c = sorted(rng.sample(range(1, span + 1), 2))
        a, b, c = a, min(a + b, n - 1), min(a + c, n - 1)
        if not a < b < c:
            a, b, c = sorted(rng.sample(range(1, n), 3))
        pieces = [tour[:a], [0], tour[b:c], [0], tour[a:b], [0], tour[c:]]
        kicked = np.concatenate([np.asarray(p, dtype=np.int64) for p in pieces])
        zeros = np.flatnonzero(kicked == 0)
        # Rotate to a random depot visit so that every route boundary gets its turn.
        return _clean(np.roll(kicked, -int(rng.choice(zeros.tolist()))))


def _clean(tour: np.ndarray) -> np.ndarray:
    """Drop empty routes (consecutive depot visits) and a depot visit at the very end."""
    if tour[0] != 0:
        tour = np.roll(tour, -int(np.flatnonzero(tour == 0)[0]))
    zero = tour == 0
    keep = np.ones(len(tour), dtype=bool)
    keep[1:] = ~(zero[1:] & zero[:-1])
    tour = tour[keep]
    while len(tour) > 1 and tour[-1] == 0:
        tour = tour[:-1]
    return tour


class _State:
    """Per-position route data of one tour, and the pricing of each neighbourhood."""

    def __init__(self, tours: GiantTour, tour: np.ndarray) -> None:
        self.g, self.t = tours, tour
        n = len(tour)
        self.n = n
        zero = tour == 0
        self.route = np.cumsum(zero) - 1
        starts = np.flatnonzero(zero)
        ends = np.append(starts[1:] - 1, n - 1)
        self.start, self.end = starts[self.route], ends[self.route]
        running = np.cumsum(tours.changes[tour])
        self.p = running - running[starts][self.route]
        self.pre_high, self.pre_low = self.p.copy(), self.p.copy()
        self.suf_high, self.suf_low = self.p.copy(), self.p.copy()
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            seg = self.p[s : e + 1]
            self.pre_high[s : e + 1] = np.maximum.accumulate(seg)
            self.pre_low[s : e + 1] = np.minimum.accumulate(seg)
            self.suf_high[s : e + 1] = np.maximum.accumulate(seg[::-1])[::-1]
            self.suf_low[s : e + 1] = np.minimum.accumulate(seg[::-1])[::-1]
        self.route_high = self.pre_high[ends]
        self.route_low = self.pre_low[ends]
        self.table = RangeTable(self.p)
        self.position = np.zeros(len(tours.changes), dtype=np.int64)
        self.position[tour[::-1]] = np.arange(n)[::-1]  # depot: position 0

    def _suffix(self, at: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inside = at <= end
        a = np.minimum(at, self.n - 1)
        return (
            np.where(inside, self.suf_high[a], -_BIG),
            np.where(inside, self.suf_low[a], _BIG),
        )

    # -------------------------------------------------------------- or-opt
    def or_opt(self, length: int) -> Move:
        g, t, n = self.g, self.t, self.n
        i = np.arange(1, n - length + 1)
        if len(i) == 0:
            return 0, None
        stretch = np.stack([t[i + k] for k in range(length)], axis=1)
        ok = np.all(stretch != 0, axis=1) & (i + length - 1 <= self.end[i])
        i, stretch = i[ok], stretch[ok]
        if len(i) == 0:
            return 0, None
        c = g.cost
        first, last = stretch[:, 0], stretch[:, -1]
        before, after = t[i - 1], t[(i + length) % n]
        forward = sum(
            (c[stretch[:, k], stretch[:, k + 1]] for k in range(length - 1)),
            np.zeros(len(i), np.int64),
        )
        backward = sum(
            (c[stretch[:, k + 1], stretch[:, k]] for k in range(length - 1)),
            np.zeros(len(i), np.int64),
        )
        removal = c[before, after] - c[before, first] - c[last, after]
        rel = np.stack([self.p[i + k] - self.p[i - 1] for k in range(length)], axis=1)
        net = rel[:, -1]
        fwd_high, fwd_low = rel.max(axis=1), rel.min(axis=1)
        heads = np.concatenate([np.zeros((len(i), 1), np.int64), rel[:, :-1]], axis=1)
        rev_high, rev_low = net - heads.min(axis=1), net - heads.max(axis=1)

        targets = (
            np.concatenate([self.position[g.near[first]], self.position[g.near[last]] - 1], axis=1)
            % n
        )  # insert after position j
        ii = np.repeat(i[:, None], targets.shape[1], axis=1)
        j = targets
        valid = ~((j >= ii - 1) & (j <= ii + length - 1))
        u, w = t[j], t[(j + 1) % n]
        same = self.route[j] == self.route[ii]
        feasible_base = self._or_opt_feasible(ii, j, length, net[:, None], same)

        best_delta, best_move = 0, None
        for reverse in (False, True):
            s0 = (last if reverse else first)[:, None]
            s1 = (first if reverse else last)[:, None]
            inner = (backward - forward)[:, None] if reverse else 0
            delta = c[u, s0] + c[s1, w] - c[u, w] + removal[:, None] + inner
            high = (rev_high if reverse else fwd_high)[:, None]
            low = (rev_low if reverse else fwd_low)[:, None]
            fits = feasible_base(high, low)
            delta = np.where(valid & fits, delta, _BIG)
            k = int(np.argmin(delta))
            if delta.flat[k] < best_delta:
                row, col = divmod(k, delta.shape[1])
                best_delta = int(delta.flat[k])
                best_move = (int(i[row]), int(j[row, col]), reverse)
        if best_move is None:
            return 0, None
        start, target, reverse = best_move

        def apply() -> np.ndarray:
            stretch_nodes = t[start : start + length]
            if reverse:
                stretch_nodes = stretch_nodes[::-1]
            rest = np.concatenate([t[:start], t[start + length :]])
            at = target if target < start else target - length
            return np.concatenate([rest[: at + 1], stretch_nodes, rest[at + 1 :]])

        return best_delta, apply

    def _or_opt_feasible(
        self, i: np.ndarray, j: np.ndarray, length: int, net: np.ndarray, same: np.ndarray
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A function of the moved stretch's (high, low) giving the feasibility mask."""
        cap, p = self.g.capacity, self.p
        end_i, end_j = self.end[i], self.end[j]
        # Different routes: the source loses the stretch, the target gains it after j.
        src_suf_high, src_suf_low = self._suffix(i + length, end_i)
        src_high = np.maximum(self.pre_high[i - 1], src_suf_high - net)
        src_low = np.minimum(self.pre_low[i - 1], src_suf_low - net)
        src_ok = src_high - src_low <= cap
        dst_suf_high, dst_suf_low = self._suffix(j + 1, end_j)
        # Same route, inserted before the stretch (j < i - 1) or after it (j >= i + length).
        mid_high_b, mid_low_b = self.table.query(j + 1, i - 1)
        mid_high_a, mid_low_a = self.table.query(i + length, j)
        after_high, after_low = self._suffix(i + length, end_i)
        tail_high, tail_low = self._suffix(j + 1, end_j)
        early = j < i

        def fits(high: np.ndarray, low: np.ndarray) -> np.ndarray:
            dst_high = np.maximum.reduce([self.pre_high[j], p[j] + high, dst_suf_high + net])
            dst_low = np.minimum.reduce([self.pre_low[j], p[j] + low, dst_suf_low + net])
            other = src_ok & (dst_high - dst_low <= cap)
            b_high = np.maximum.reduce(
                [self.pre_high[j], p[j] + high, mid_high_b + net, after_high]
            )
            b_low = np.minimum.reduce([self.pre_low[j], p[j] + low, mid_low_b + net, after_low])
            a_high = np.maximum.reduce(
                [self.pre_high[i - 1], mid_high_a - net, p[j] - net + high, tail_high]
            )
            a_low = np.minimum.reduce(
                [self.pre_low[i - 1], mid_low_a - net, p[j] - net + low, tail_low]
            )
            inside = np.where(early, b_high - b_low <= cap, a_high - a_low <= cap)
            return np.where(same, inside, other)

        return fits

    # -------------------------------------------------------------- 2-opt
    def two_opt(self) -> Move:
        g, t, n, c = self.g, self.t, self.n, self.g.cost
        a = np.arange(1, n)
        a = a[t[a] != 0]
        if len(a) == 0:
            return 0, None
        ends = np.concatenate(
            [self.position[g.near[t[a - 1]]], self.position[g.near[t[a]]] - 1], axis=1
        )
        aa = np.repeat(a[:, None], ends.shape[1], axis=1)
        b = ends
        valid = (b > aa) & (b <= self.end[aa]) & (self.route[b] == self.route[aa]) & (t[b] != 0)
        b = np.where(valid, b, aa)
        forward = np.concatenate([[0], np.cumsum(c[t[:-1], t[1:]])])
        backward = np.concatenate([[0], np.cumsum(c[t[1:], t[:-1]])])
        before, after = t[aa - 1], t[(b + 1) % n]
        delta = (
            c[before, t[b]]
            + c[t[aa], after]
            - c[before, t[aa]]
            - c[t[b], after]
            + (backward[b] - backward[aa])
            - (forward[b] - forward[aa])
        )
        mid_high, mid_low = self.table.query(aa - 1, b - 1)
        inner_high = self.p[aa - 1] + self.p[b] - mid_low
        inner_low = self.p[aa - 1] + self.p[b] - mid_high
        tail_high, tail_low = self._suffix(b + 1, self.end[aa])
        high = np.maximum.reduce([self.pre_high[aa - 1], inner_high, tail_high])
        low = np.minimum.reduce([self.pre_low[aa - 1], inner_low, tail_low])
        delta = np.where(valid & (high - low <= g.capacity), delta, _BIG)
        k = int(np.argmin(delta))
        if delta.flat[k] >= 0:
            return 0, None
        row, col = divmod(k, delta.shape[1])
        lo, hi = int(aa[row, col]), int(b[row, col])
        return int(delta.flat[k]), lambda: np.concatenate(
            [t[:lo], t[lo : hi + 1][::-1], t[hi + 1 :]]
        )

    # -------------------------------------------------------------- merge
    def merge(self) -> Move:
        g, t, c = self.g, self.t, self.g.cost
        zeros = np.flatnonzero(t == 0)[1:]
        if len(zeros) == 0:
            return 0, None
        last, nxt = t[zeros - 1], t[(zeros + 1) % self.n]
        ok = (last != 0) & (nxt != 0)
        delta = c[last, nxt] - c[last, 0] - c[0, nxt]
        first_route, second_route = self.route[zeros - 1], self.route[zeros]
        carry = self.p[zeros - 1]
        high = np.maximum(self.route_high[first_route], carry + self.route_high[second_route])
        low = np.minimum(self.route_low[first_route], carry + self.route_low[second_route])
        delta = np.where(ok & (high - low <= g.capacity), delta, _BIG)
        k = int(np.argmin(delta))
        if delta[k] >= 0:
            return 0, None
        z = int(zeros[k])
        return int(delta[k]), lambda: np.delete(t, z)


def tour_search(
    cost: Sequence[Sequence[int]],
    changes: Sequence[int],
    capacity: int,
    start: Sequence[Sequence[int]],
    time_limit: float,
    seed: int = 0,
    max_routes: int | None = None,
) -> tuple[list[list[int]], int]:
    """Iterated search from feasible routes; returns the best routes and the kicks made."""
    deadline = time.monotonic() + time_limit
    tours = GiantTour(cost, changes, capacity)
    rng = random.Random(seed)
    best = tours.descend(GiantTour.from_routes(start), deadline)
    best_cost, kicks = tours.total(best), 0
    while time.monotonic() < deadline and len(best) >= 8:
        found = tours.descend(tours.kick(best, rng), deadline)
        kicks += 1
        routes = int((found == 0).sum())
        if max_routes is not None and routes > max_routes:
            continue
        found_cost = tours.total(found)
        if found_cost <= best_cost:
            best, best_cost = found, found_cost
    return GiantTour.to_routes(best), kicks
