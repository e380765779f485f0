"""Greedy day plan: the fallback that is always feasible and always quick.

The van with the earliest clock moves next, to the station whose visit (with the best
change its load allows, at its arrival time) avoids the most unmet demand per second
spent, net of the driving cost. It stops when nothing helps or its time runs out;
the deadline cuts the loop short with the stops chosen so far (each one feasible).
"""

from __future__ import annotations

import time

import numpy as np

from optimiser.mobility.dynamic.day import Day, Plan

_SPARE_S = 60.0


def greedy_plan(day: Day, candidates: np.ndarray, deadline: float) -> Plan:
    """Build routes stop by stop until no van can do anything useful or time is up."""
    p = day.problem
    plan: Plan = [[] for _ in p.vans]
    clock = np.zeros(len(p.vans))
    load = np.array([v.load for v in p.vans])
    position = day.van_xy.copy()
    open_ = np.ones(len(candidates), dtype=bool)
    active = set(range(len(p.vans)))
    while active and time.monotonic() < deadline:
        van = min(active, key=lambda k: clock[k])
        step = _best_step(day, van, candidates[open_], clock[van], load[van], position[van])
        if step is None:
            active.discard(van)
            continue
        station, change, arrival = step
        plan[van].append((station, change, abs(change)))
        clock[van] = arrival + float(day.service_s(change))
        load[van] += change
        position[van] = day.station_xy[station]
        open_[np.flatnonzero(candidates == station)] = False
    return plan


def _best_step(
    day: Day, van: int, stations: np.ndarray, clock: float, load: int, position: np.ndarray
) -> tuple[int, int, float] | None:
    spec = day.problem.vans[van]
    if len(stations) == 0:
        return None
    travel = day.travel_s(position, day.station_xy[stations])
    arrival = clock + travel
    deltas = np.arange(-load, spec.capacity - load + 1)
    _, lost = day.unmet_demand.visit(
        stations, arrival, np.tile(deltas, (len(stations), 1)).astype(float)
    )
    finish = arrival[:, None] + day.service_s(deltas)[None, :]
    # A minute spare: the routing search, started from this plan, counts whole seconds.
    fits = finish <= spec.time_available_s - _SPARE_S
    lost = np.where(fits & (deltas != 0)[None, :], lost, np.inf)
    gain = day.baseline[stations][:, None] - lost - day.cost_per_s * travel[:, None]
    score = gain / (finish - clock)
    best = np.unravel_index(np.argmax(score), score.shape)
    if not np.isfinite(score[best]) or gain[best] <= 1e-6:
        return None
    row, col = int(best[0]), int(best[1])
    return int(stations[row]), int(deltas[col]), float(arrival[row])
