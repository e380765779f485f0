"""What visiting each station is worth: the change to make there and the demand it saves.

Each station is valued as if a van reached it as early as any van can (nearest van,
straight from where it is). For every change within the largest van's capacity the
expected unmet demand is simulated; the routing gets a modest change (the smallest one
that saves 85% of what the best change saves: easier to combine in a van) and reserves
handling time for the best one, which the load DP may use once the route is known.
How fast the value decays when the visit comes later is measured for soft deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.mobility.dynamic.day import Day

_SHIFTS_S = (0.0, 900.0, 1800.0, 3600.0, 7200.0)
_MODEST = 0.85


@dataclass(frozen=True)
class Prizes:
    """Per station: earliest arrival, changes, values, and how the value decays later."""

    earliest: np.ndarray  # seconds; inf when no van can get there
    when: np.ndarray  # (N,) the visit time the values are for
    deltas: np.ndarray  # (L,) the changes valued
    saved: np.ndarray  # (N, L) unmet demand saved by each change at the earliest arrival
    best: np.ndarray  # (N,) the change saving most
    modest: np.ndarray  # (N,) the smallest change saving _MODEST of the best

    def value(self, stations: np.ndarray, changes: np.ndarray) -> np.ndarray:
        """Unmet demand saved by the given changes at the valued visit times."""
        columns = np.searchsorted(self.deltas, changes)
        return self.saved[stations, columns]


def _saved(day: Day, arrival: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    stations = np.arange(len(day.problem.stations))
    _, lost = day.unmet_demand.visit(stations, arrival, np.tile(deltas, (len(stations), 1)) * 1.0)
    return np.where(np.isfinite(lost), day.baseline[:, None] - lost, -np.inf)


def station_prizes(day: Day, when: np.ndarray | None = None) -> Prizes:
    """Value every station for a visit at `when` (default: the earliest arrival any van
    can make); stations no van can reach in time are worth nothing."""
    travel = np.atleast_2d(day.travel_s(day.van_xy, day.station_xy))  # (vans, stations)
    available = np.array([v.time_available_s for v in day.problem.vans])[:, None]
    earliest = np.where(travel + day.problem.stop_s <= available, travel, np.inf).min(axis=0)
    if when is None:
        when = np.where(np.isfinite(earliest), earliest, day.unmet_demand.horizon_s)
    largest = max(v.capacity for v in day.problem.vans)
    deltas = np.arange(-largest, largest + 1)
    saved = _saved(day, when, deltas)
    saved[~np.isfinite(earliest)] = np.where(deltas == 0, 0.0, -np.inf)
    tie_break = 1e-9 * np.abs(deltas)[None, :]
    best = deltas[(saved - tie_break).argmax(axis=1)]
    top = saved.max(axis=1, keepdims=True)
    enough = (saved >= _MODEST * top) & (np.sign(deltas)[None, :] == np.sign(best)[:, None])
    modest = deltas[np.where(enough, -np.abs(deltas)[None, :], -np.inf).argmax(axis=1)]
    return Prizes(earliest, when, deltas, saved, best, modest)


@dataclass(frozen=True)
class Timing:
    """How a visit's saving changes when it comes later or earlier than valued."""

    late_from: np.ndarray
    late_rate: np.ndarray
    early_from: np.ndarray
    early_rate: np.ndarray


def timing(day: Day, stations: np.ndarray, when: np.ndarray, change: np.ndarray) -> Timing:
    """Fit a flat-then-linear loss of saving on each side of `when`, per station.

    The saving is simulated for shifts of the visit; it counts as kept while within 95%
    of the saving at `when`, and the steepest loss rate beyond that is the slope.
    """
    late = _side(day, stations, when, change, np.array(_SHIFTS_S))
    early = _side(day, stations, when, change, -np.array(_SHIFTS_S))
    return Timing(when + late[0], late[1], when - early[0], early[1])


def _side(
    day: Day, stations: np.ndarray, when: np.ndarray, change: np.ndarray, shifts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    values = []
    for shift in shifts:
        at = np.clip(when + shift, 0.0, None)
        _, lost = day.unmet_demand.visit(stations, at, change[:, None] * 1.0)
        values.append(np.where(np.isfinite(lost[:, 0]), day.baseline[stations] - lost[:, 0], 0.0))
    table = np.array(values)  # (shifts, stations); shifts[0] == 0
    distance = np.abs(shifts)
    kept = np.where(table >= 0.95 * table[0][None, :], np.arange(len(shifts))[:, None], 0)
    kept = kept.max(axis=0)
    columns = np.arange(len(stations))
    beyond = distance[:, None] > distance[kept][None, :]
    slopes = (table[kept, columns][None, :] - table) / np.maximum(
        distance[:, None] - distance[kept][None, :], 1.0
    )
    return distance[kept], np.maximum(np.where(beyond, slopes, 0.0).max(axis=0), 0.0)


def pick_candidates(prizes: Prizes, limit: int | None = None, least: float = 0.2) -> np.ndarray:
    """Stations worth a visit (a saving of at least `least`), the most valuable first."""
    top = prizes.saved.max(axis=1)
    worth = np.flatnonzero((top >= least) & (prizes.best != 0))
    order = np.argsort(-top[worth], kind="stable")
    return worth[order[:limit]]
