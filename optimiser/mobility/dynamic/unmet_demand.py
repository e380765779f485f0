"""Expected unmet demand of stations, by a fluid simulation of their forecast.

Within one forecast interval a station gains `returns - pickups` vehicles at a steady
rate; the inventory is kept within [0, capacity], and whatever would push it below 0
(pickups at an empty station) or above capacity (returns at a full one) is lost demand.
All functions work on many stations and many candidate inventories at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.mobility.model import DynamicProblem

FloatArray = np.ndarray


@dataclass(frozen=True)
class UnmetDemand:
    """Per-station capacity, inventory now and net inflow per interval."""

    capacity: FloatArray  # (N,)
    inventory: FloatArray  # (N,)
    net: FloatArray  # (N, H): expected returns - pickups in each interval
    interval_s: float

    @classmethod
    def of(cls, problem: DynamicProblem) -> UnmetDemand:
        stations = problem.stations
        return cls(
            capacity=np.array([s.capacity for s in stations], dtype=float),
            inventory=np.array([s.inventory for s in stations], dtype=float),
            net=np.array([s.returns for s in stations]) - np.array([s.pickups for s in stations]),
            interval_s=problem.interval_s,
        )

    @property
    def horizon_s(self) -> float:
        return self.net.shape[1] * self.interval_s

    def advance(
        self, stations: np.ndarray, level: FloatArray, start: FloatArray, end: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Simulate from `start` to `end` (per row); level is (k,) or (k, L) inventories.

        Returns the inventories at `end` and the demand lost on the way, shaped like level.
        """
        level = np.array(level, dtype=float, copy=True)
        lost = np.zeros_like(level)
        extra = (slice(None),) + (None,) * (level.ndim - 1)
        capacity = self.capacity[stations][extra]
        for h in range(self.net.shape[1]):
            low, high = h * self.interval_s, (h + 1) * self.interval_s
            share = np.clip(np.minimum(end, high) - np.maximum(start, low), 0.0, None)
            if not share.any():
                continue
            level += (self.net[stations, h] * share / self.interval_s)[extra]
            lost += np.maximum(0.0, -level) + np.maximum(0.0, level - capacity)
            np.clip(level, 0.0, capacity, out=level)
        return level, lost

    def do_nothing(self) -> FloatArray:
        """Expected unmet demand of every station over the horizon without any visit."""
        every = np.arange(len(self.capacity))
        zero = np.zeros(len(every))
        _, lost = self.advance(every, self.inventory, zero, np.full(len(every), self.horizon_s))
        return lost

    def visit(
        self, stations: np.ndarray, arrival: FloatArray, changes: np.ndarray
    ) -> tuple[FloatArray, FloatArray]:
        """Unmet demand over the horizon when station k is visited at arrival[k].

        changes is (k, L): candidate vehicles taken from the station (+) or left (-).
        Returns (inventory at arrival (k,), total lost (k, L)); infeasible changes (taking
        more than is there, leaving more than fits) get +inf.
        """
        count = len(stations)
        zero, horizon = np.zeros(count), np.full(count, self.horizon_s)
        at_arrival, before = self.advance(stations, self.inventory[stations], zero, arrival)
        after_level = at_arrival[:, None] - changes
        capacity = self.capacity[stations][:, None]
        fits = (after_level >= -1e-9) & (after_level <= capacity + 1e-9)
        _, after = self.advance(stations, np.clip(after_level, 0.0, capacity), arrival, horizon)
        return at_arrival, np.where(fits, before[:, None] + after, np.inf)

    def lower_bound(self, stations: np.ndarray, earliest: FloatArray) -> FloatArray:
        """A proved lower bound on each station's unmet demand given its earliest visit.

        A visit in [max(earliest, t_k), t_k+1) cannot lose less than the demand lost before
        max(earliest, t_k) plus the least any inventory at t_k+1 loses afterwards (the loss
        is 1-Lipschitz in the inventory, hence the grid minimum less half a grid step).
        """
        count, intervals = len(stations), self.net.shape[1]
        zero, horizon = np.zeros(count), np.full(count, self.horizon_s)
        _, best = self.advance(stations, self.inventory[stations], zero, horizon)
        step = 0.5
        grid = np.arange(0.0, float(self.capacity[stations].max()) + step, step)
        levels = np.minimum(grid[None, :], self.capacity[stations][:, None])
        for k in range(intervals):
            begin = np.maximum(earliest, k * self.interval_s)
            boundary = np.full(count, (k + 1) * self.interval_s)
            _, before = self.advance(stations, self.inventory[stations], zero, begin)
            _, after = self.advance(stations, levels, boundary, horizon)
            candidate = before + np.maximum(0.0, after.min(axis=1) - step / 2)
            best = np.where(earliest < boundary, np.minimum(best, candidate), best)
        return best
