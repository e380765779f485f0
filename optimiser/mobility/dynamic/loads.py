"""Best load changes along a fixed day route, by dynamic programming over the van load.

The route's order and timeline are fixed; at each stop the change may be any integer
with |change| <= the vehicles the stop reserved handling time for, that the station can
give or take at the arrival time, and that keeps the van load within [0, capacity].
The DP minimises the expected unmet demand of the visited stations exactly.
"""

from __future__ import annotations

import numpy as np

from optimiser.mobility.dynamic.day import Day, Stop


def best_changes(day: Day, van: int, stops: list[Stop], arrivals: list[float]) -> list[int]:
    """Changes minimising the unmet demand of the route's stations (0 where nothing helps)."""
    if not stops:
        return []
    spec = day.problem.vans[van]
    deltas = np.arange(-spec.capacity, spec.capacity + 1)
    stations = np.array([s for s, _, _ in stops])
    reserved = np.array([r for _, _, r in stops])
    _, lost = day.unmet_demand.visit(
        stations, np.array(arrivals), np.tile(deltas, (len(stops), 1)).astype(float)
    )
    lost = np.where(np.abs(deltas)[None, :] <= reserved[:, None], lost, np.inf)
    # Prefer the smaller change among equal outcomes (less handling, fewer surprises).
    lost = lost + 1e-9 * np.abs(deltas)[None, :]

    loads = np.arange(spec.capacity + 1)
    value = np.full(len(loads), np.inf)
    value[spec.load] = 0.0
    choices = []
    for k in range(len(stops)):
        previous = loads[:, None] - deltas[None, :]  # load before the stop, per (after, delta)
        valid = (previous >= 0) & (previous <= spec.capacity)
        candidate = np.where(
            valid, value[np.clip(previous, 0, spec.capacity)] + lost[k][None, :], np.inf
        )
        choice = candidate.argmin(axis=1)
        value = candidate[loads, choice]
        choices.append(deltas[choice])
    load = int(value.argmin())
    changes = []
    for k in range(len(stops) - 1, -1, -1):
        change = int(choices[k][load])
        changes.append(change)
        load -= change
    return changes[::-1]


def settle(day: Day, van: int, stops: list[Stop]) -> list[Stop]:
    """Fix the changes of a route by DP, dropping stops that change nothing, until stable.

    Dropping a stop makes later arrivals earlier, which changes what the stations hold,
    so the DP runs again on the new timeline until every remaining stop does something.
    """
    while True:
        arrivals, _, _ = day.timeline(van, stops)
        changes = best_changes(day, van, stops, arrivals)
        settled = [(s, c, r) for (s, _, r), c in zip(stops, changes, strict=True)]
        kept = [stop for stop in settled if stop[1] != 0]
        if len(kept) == len(settled):
            return settled
        stops = kept


def tighten(day: Day, van: int, stops: list[Stop]) -> list[Stop]:
    """Shrink reservations to the changes made, when the DP keeps its choices on the
    resulting (earlier) timeline; otherwise keep the route as it is."""
    shrunk = [(s, c, abs(c)) for s, c, _ in stops]
    arrivals, _, _ = day.timeline(van, shrunk)
    if best_changes(day, van, shrunk, arrivals) == [c for _, c, _ in shrunk]:
        return shrunk
    return stops
