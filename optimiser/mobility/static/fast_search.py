"""An iterated local search on the giant tour with don't-look bits, for the night run.

The tour is an array from the depot back to the depot, where every inner 0 is a depot
visit between two vans' routes. The moves, the descent and the kick are compiled
(`tour_kernel.py`); this module holds an instance's arrays and runs the search against
the clock, in chunks of kicks sized to take about 10 ms each.

* or-opt: a stretch of 1-3 stations moved, either way round, next to one of the nearest
  stations of its ends, in its own route or another;
* 2-opt: a stretch reversed, a new arc joining near stations; the stretch may hold
  depot visits, and then the ends of two routes are swapped (2-opt* between routes);
* merge: a depot visit dropped when one van can do both routes.

Only stations whose arcs changed are looked at again (don't-look bits), so the descent
after a local kick costs microseconds. The kick is a double bridge A B C D -> A C B D
on three cuts close to each other, drawn again (up to 20 times) while it breaks the
capacity; failing that, the joints become depot visits, A 0 C 0 B 0 D, which is always
feasible (any stretch of a feasible route is a feasible route, the start load being free).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from optimiser.mobility.static import tour_kernel as kernel

_NEIGHBOURS = 10
_CHUNK_S = 0.01  # kicks run in chunks this long between two looks at the clock


class FastTour:
    """Costs, changes, capacity and neighbour lists of one instance, as compiled code takes them."""

    def __init__(self, cost: Sequence[Sequence[int]], changes: Sequence[int], capacity: int):
        self.c = np.ascontiguousarray(np.asarray(cost, dtype=np.int64))
        self.q = np.ascontiguousarray(np.asarray(changes, dtype=np.int64))
        self.capacity = int(capacity)
        size = len(self.q)
        # Nearest stations by the round trip; stable ties (lowest number first).
        closeness = (self.c + self.c.T).astype(np.float64)
        np.fill_diagonal(closeness, np.inf)
        closeness[:, 0] = np.inf
        order = np.argsort(closeness, axis=1, kind="stable")
        self.near = np.ascontiguousarray(order[:, : max(0, min(_NEIGHBOURS, size - 2))])
        self.instance: kernel.Instance = (self.c, self.q, self.capacity, self.near)

    @staticmethod
    def from_routes(routes: Sequence[Sequence[int]]) -> np.ndarray:
        tour = [0]
        for route in routes:
            if route:
                tour += [*route, 0]
        return np.asarray(tour, dtype=np.int64)

    @staticmethod
    def to_routes(tour: np.ndarray) -> list[list[int]]:
        routes: list[list[int]] = [[]]
        for node in tour[1:].tolist():
            if node == 0:
                routes.append([])
            else:
                routes[-1].append(node)
        return [r for r in routes if r]

    def total(self, tour: np.ndarray) -> int:
        return int(kernel.tour_cost(self.c, tour))

    def feasible(self, tour: np.ndarray) -> bool:
        return bool(kernel.feasible(self.q, self.capacity, tour))

    def descend(self, tour: np.ndarray, active: Sequence[int] | None = None) -> np.ndarray:
        """Apply cheaper feasible moves until none is left around the active stations."""
        stations = np.arange(1, len(self.q)) if active is None else active
        todo = np.asarray(stations, dtype=np.int64)
        found: np.ndarray = kernel.descend(self.instance, tour, todo)
        return found

    def improve(self, tour: np.ndarray, v: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The first cheaper feasible move around station v (or a merge), and the stations
        whose arcs it changed; None if there is none."""
        index, touched = kernel.new_index(len(self.q)), np.zeros(6, dtype=np.int64)
        kernel.build_index(self.c, tour, index)
        new = kernel.improve(self.instance, tour, index, v, touched)
        if len(new) == 0:
            new = kernel.merge(self.instance, tour, touched)
        return None if len(new) == 0 else (kernel.clean(new), touched)

    def kick(self, tour: np.ndarray, split_share: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """A local double bridge (see `tour_kernel.kick`), and the stations at its joints."""
        joints = np.zeros(6, dtype=np.int64)
        kicked: np.ndarray = kernel.kick(self.instance, tour, split_share, joints)
        return kicked, joints


def warm_up() -> None:
    """Load (or, the first time on a machine, compile) every compiled entry point, so
    that no search pays for it within its time limit."""
    size = 9
    cost = [[abs(a - b) for b in range(size)] for a in range(size)]
    tours = FastTour(cost, [0, *([1, -1] * 4)], 2)
    tour = tours.descend(tours.from_routes([[i] for i in range(1, size)]))
    kernel.seed_random(0)
    kernel.iterate(tours.instance, tour, tour, 1, 0.01, 0.5, 0)
    tours.improve(tour, 1)
    tours.kick(tour)
    tours.feasible(tour)
    tours.total(tour)


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
    the best; the best tour is kept apart. `split_share`: see `tour_kernel.kick`. The
    result depends on the seed and on how many kicks the time allows, nothing else.
    """
    deadline = time.monotonic() + time_limit
    tours = FastTour(cost, changes, capacity)
    kernel.seed_random(seed)
    best = tours.descend(tours.from_routes(start))
    current, kicks, chunk = best, 0, 1
    while time.monotonic() < deadline and len(best) >= 8:
        began = time.monotonic()
        current, best = kernel.iterate(
            tours.instance, current, best, chunk, slack, split_share, max_routes or 0
        )
        kicks += chunk
        if time.monotonic() - began < _CHUNK_S:
            chunk *= 2
    return tours.to_routes(best), kicks
