"""The compiled moves, descent and kick of the night run's giant-tour search (numba).

A tour is an int64 array from the depot back to the depot; every inner 0 is a depot
visit between two vans' routes. The search was pure Python before: about 400 kicks a
second at 80-120 stations, too few to make a 10 s result independent of the seed.
Compiled with numba, the same moves in the same order make a hundred times more.

A move is priced in O(1) from the arc costs and the prefix sums of the arc costs walked
forward (`fwd`) and backward (`bwd`), so a reversed stretch of the asymmetric matrix is
priced exactly. Only a cheaper move is built and then checked for capacity over the
whole tour (improving moves are rare among those priced, and the check is a short loop).

Compiled functions are cached on disk next to this module (`cache=True`), so only the
first run on a machine pays the compilation (a few seconds); `fast_search.warm_up()` pays it at
once, before any deadline runs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

KICK_REACH = 30  # the double bridge's three cuts fall within this many positions
KICK_TRIES = 20  # bridges drawn while they break the capacity, before the depot joints

_EMPTY = np.empty(0, dtype=np.int64)

# An instance as the compiled functions take it: costs c[a, b], changes q, van
# capacity, and each node's nearest stations.
Instance = tuple[np.ndarray, np.ndarray, int, np.ndarray]
# The index of one tour: station positions, route number per position, and the prefix
# sums of the arc costs walked forward and backward.
Index = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@njit(cache=True)
def seed_random(seed: int) -> None:
    """Seed the compiled code's random generator (numba keeps its own, per thread)."""
    np.random.seed(seed)


@njit(cache=True)
def tour_cost(c: np.ndarray, t: np.ndarray) -> int:
    total = 0
    for k in range(len(t) - 1):
        total += c[t[k], t[k + 1]]
    return total


@njit(cache=True)
def feasible(q: np.ndarray, capacity: int, t: np.ndarray) -> bool:
    """Every route's running load (0 at its depot) spans at most the capacity."""
    level = high = low = 0
    for k in range(1, len(t)):
        node = t[k]
        if node == 0:
            if high - low > capacity:
                return False
            level = high = low = 0
        else:
            level += q[node]
            high = max(high, level)
            low = min(low, level)
    return high - low <= capacity


@njit(cache=True)
def clean(t: np.ndarray) -> np.ndarray:
    """Depot at both ends, no empty routes (no two depot visits in a row)."""
    out = np.empty(len(t) + 2, dtype=np.int64)
    out[0], size = 0, 1
    for node in t:
        if node != 0 or out[size - 1] != 0:
            out[size] = node
            size += 1
    if out[size - 1] != 0:
        out[size] = 0
        size += 1
    return out[:size].copy()


@njit(cache=True)
def count_routes(t: np.ndarray) -> int:
    return int(np.sum(t == 0)) - 1


@njit(cache=True)
def new_index(n: int) -> Index:
    """Arrays for the index of a tour of an instance of n nodes (any tour length)."""
    size = 2 * n + 2
    return (
        np.zeros(n, dtype=np.int64),
        np.zeros(size, dtype=np.int64),
        np.zeros(size, dtype=np.int64),
        np.zeros(size, dtype=np.int64),
    )


@njit(cache=True)
def build_index(c: np.ndarray, t: np.ndarray, ix: Index) -> None:
    """Station positions, route numbers and forward/backward cost prefix sums of `t`."""
    pos, route, fwd, bwd = ix
    number, fwd[0], bwd[0] = 0, 0, 0
    for k in range(len(t)):
        node = t[k]
        if node == 0:
            number += 1
        else:
            pos[node] = k
        route[k] = number
        if k + 1 < len(t):
            fwd[k + 1] = fwd[k] + c[node, t[k + 1]]
            bwd[k + 1] = bwd[k] + c[t[k + 1], node]


@njit(cache=True, inline="always")
def _mark(touched: np.ndarray, a: int, b: int, c: int, d: int, e: int, f: int) -> None:
    touched[0], touched[1], touched[2] = a, b, c
    touched[3], touched[4], touched[5] = d, e, f


@njit(cache=True)
def _try_move(
    inst: Instance, t: np.ndarray, span: tuple[int, int, int], reverse: bool,
    touched: np.ndarray, x: int, y: int,
) -> np.ndarray:  # fmt: skip
    """t with t[i..e] moved after position j, (i, e, j) = span, if that is feasible (the
    caller has priced it cheaper); the stations whose arcs change go to `touched` (x, y:
    the stretch's new neighbours)."""
    i, e, j = span
    stretch = t[i : e + 1][::-1].copy() if reverse else t[i : e + 1].copy()
    if j < i:
        new = np.concatenate((t[: j + 1], stretch, t[j + 1 : i], t[e + 1 :]))
    else:
        new = np.concatenate((t[:i], t[e + 1 : j + 1], stretch, t[j + 1 :]))
    if not feasible(inst[1], inst[2], new):
        return _EMPTY
    _mark(touched, t[i - 1], t[e + 1], t[i], t[e], x, y)
    return new


@njit(cache=True)
def or_opt(
    inst: Instance, t: np.ndarray, ix: Index, v: int, length: int, touched: np.ndarray
) -> np.ndarray:
    """The first cheaper feasible move of the stretch of `length` starting at station v,
    either way round, next to a near station of its ends; empty if there is none."""
    c, _, _, near = inst
    pos, route, fwd, bwd = ix
    i = pos[v]
    e = i + length - 1
    if e >= len(t) - 1 or t[e] == 0 or route[e] != route[i]:
        return _EMPTY
    s0, s1, before, after = t[i], t[e], t[i - 1], t[e + 1]
    removal = c[before, after] - c[before, s0] - c[s1, after]
    turned = removal + (bwd[e] - bwd[i]) - (fwd[e] - fwd[i])
    for side in range(2):  # next to a near station of s0, then of s1
        x, y = (s0, s1) if side == 0 else (s1, s0)
        for w in near[x]:
            for shift in range(2):
                j = pos[w] - shift  # the stretch goes after position j
                if i - 1 <= j <= e:
                    continue
                if shift == 0:  # w -> x ... y -> u
                    u, reverse = t[j + 1], side == 1
                    delta = c[w, x] + c[y, u] - c[w, u]
                else:  # u -> y ... x -> w
                    u, reverse = t[j], side == 0
                    delta = c[u, y] + c[x, w] - c[u, w]
                delta += turned if reverse else removal
                if delta >= 0:  # most moves: priced out before any call
                    continue
                new = _try_move(inst, t, (i, e, j), reverse, touched, w, u)
                if len(new) > 0:
                    return new
    return _EMPTY


@njit(cache=True)
def two_opt(inst: Instance, t: np.ndarray, ix: Index, v: int, touched: np.ndarray) -> np.ndarray:
    """The first cheaper feasible reversal making an arc from station v to a near one.

    The stretch may hold depot visits: then the ends of two routes are exchanged.
    """
    c, q, capacity, near = inst
    pos, _, fwd, bwd = ix
    k = pos[v]
    for w in near[v]:
        for shift in range(2):  # reverse t[k+1 .. pos w], or t[k .. pos w - 1]
            a, b = k + 1 - shift, pos[w] - shift
            if a >= b or t[a] == 0 or t[b] == 0:
                continue
            delta = (
                c[t[a - 1], t[b]]
                + c[t[a], t[b + 1]]
                - c[t[a - 1], t[a]]
                - c[t[b], t[b + 1]]
                + (bwd[b] - bwd[a])
                - (fwd[b] - fwd[a])
            )
            if delta < 0:
                new = np.concatenate((t[:a], t[a : b + 1][::-1], t[b + 1 :]))
                if feasible(q, capacity, new):
                    _mark(touched, t[a - 1], t[a], t[b], t[b + 1], 0, 0)
                    return new
    return _EMPTY


@njit(cache=True)
def merge(inst: Instance, t: np.ndarray, touched: np.ndarray) -> np.ndarray:
    """The first depot visit whose removal (one van doing both routes) saves and fits."""
    c, q, capacity, _ = inst
    for z in range(1, len(t) - 1):
        if t[z] != 0:
            continue
        a, b = t[z - 1], t[z + 1]
        if a == 0 or b == 0 or c[a, b] - c[a, 0] - c[0, b] >= 0:
            continue
        new = np.concatenate((t[:z], t[z + 1 :]))
        if feasible(q, capacity, new):
            _mark(touched, a, b, 0, 0, 0, 0)
            return new
    return _EMPTY


@njit(cache=True)
def improve(inst: Instance, t: np.ndarray, ix: Index, v: int, touched: np.ndarray) -> np.ndarray:
    """The first cheaper feasible move around station v: or-opt of 1-3, then 2-opt."""
    for length in range(1, 4):
        new = or_opt(inst, t, ix, v, length, touched)
        if len(new) > 0:
            return new
    return two_opt(inst, t, ix, v, touched)


@njit(cache=True)
def _push(stack: np.ndarray, queued: np.ndarray, top: int, stations: np.ndarray) -> int:
    """Put the stations not yet queued (the depot never) on the stack; the new top."""
    for x in stations:
        if x != 0 and not queued[x]:
            stack[top] = x
            queued[x] = True
            top += 1
    return top


@njit(cache=True)
def descend(inst: Instance, t: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Apply cheaper feasible moves until none is left around the active stations.

    Don't-look bits: after a move only the stations whose arcs changed are looked at
    again, so the descent after a local kick touches a handful of stations.
    """
    c, q = inst[0], inst[1]
    n = len(q)
    t = clean(t)
    ix = new_index(n)
    stack, queued = np.empty(n, dtype=np.int64), np.zeros(n, dtype=np.bool_)
    touched = np.zeros(6, dtype=np.int64)
    top = _push(stack, queued, 0, active)
    while True:
        build_index(c, t, ix)
        while top > 0:
            top -= 1
            v = stack[top]
            queued[v] = False
            new = improve(inst, t, ix, v, touched)
            if len(new) == 0:
                continue
            t = clean(new)
            top = _push(stack, queued, top, touched)
            build_index(c, t, ix)
        new = merge(inst, t, touched)
        if len(new) == 0:
            return t
        t = clean(new)
        top = _push(stack, queued, top, touched)


@njit(cache=True)
def kick(inst: Instance, t: np.ndarray, split_share: float, joints: np.ndarray) -> np.ndarray:
    """A local double bridge A B C D -> A C B D; `joints` gets the stations at its cuts.

    Most bridges break the capacity: up to KICK_TRIES are drawn before the joints become
    depot visits, A 0 C 0 B 0 D, which is always feasible (any stretch of a feasible
    route is one, the start load being free). A `split_share` of the kicks makes the
    depot visits at once: they reach solutions of several routes that single-route
    kicks never do.
    """
    q, capacity = inst[1], inst[2]
    n = len(t)
    joints[:] = 0
    if n < 8:
        return t.copy()
    split = split_share > 0 and np.random.random() < split_share
    a = b = d = 0
    for _ in range(1 if split else KICK_TRIES):
        a = np.random.randint(1, n - 3)
        reach = min(KICK_REACH, n - 1 - a)
        x, y = np.random.randint(1, reach + 1), np.random.randint(1, reach)
        if y >= x:  # two distinct offsets in 1..reach
            y += 1
        b, d = a + min(x, y), a + max(x, y)
        kicked = np.concatenate((t[:a], t[b:d], t[a:b], t[d:]))
        if not split and feasible(q, capacity, kicked):
            _mark(joints, t[a - 1], t[a], t[b - 1], t[b], t[d - 1], t[d])
            return kicked
    depot = np.zeros(1, dtype=np.int64)
    _mark(joints, t[a - 1], t[a], t[b - 1], t[b], t[d - 1], t[d])
    return clean(np.concatenate((t[:a], depot, t[b:d], depot, t[a:b], depot, t[d:])))


@njit(cache=True)
def iterate(
    inst: Instance, current: np.ndarray, best: np.ndarray, kicks: int, slack: float,
    split_share: float, max_routes: int,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """`kicks` rounds of kick, descent and acceptance; returns (current, best).

    A descended tour becomes the current one when it is no worse than the current one
    or at most `slack` (a share) above the best; the best is kept apart. A tour of more
    than `max_routes` routes (if positive) is dropped.
    """
    c = inst[0]
    joints = np.zeros(6, dtype=np.int64)
    current_cost, best_cost = tour_cost(c, current), tour_cost(c, best)
    for _ in range(kicks):
        if len(current) < 8:
            break
        kicked = kick(inst, current, split_share, joints)
        found = descend(inst, kicked, joints)
        if max_routes > 0 and count_routes(found) > max_routes:
            continue
        found_cost = tour_cost(c, found)
        if found_cost <= current_cost or found_cost <= best_cost * (1.0 + slack):
            current, current_cost = found, found_cost
        if found_cost <= best_cost:
            best, best_cost = found, found_cost
    return current, best
