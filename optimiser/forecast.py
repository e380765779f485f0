"""Forecasts of a measured series by its hour-of-week profile blended with the recent level.

The feeders' base load (energy), the corridors' boardings (slots) and the stations'
pickups and returns (mobility) are all forecast this way:

forecast(t + k) = profile(t + k) + (level now − profile(now)) · decay^k

so the first slots follow what the series does now and later slots fall back to what it
usually does at that hour of the week. Where the profile has no data the forecast is the
level (persistence). Its error is reported against persistence on the history itself,
each profile bucket leaving out the value being predicted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimiser.forecast_history import binned
from territory.store import Store

WEEK_S = 7 * 24 * 3600
HOUR_S = 3600


def hour_of_week(ts: np.ndarray | float) -> np.ndarray:
    """0..167 from epoch seconds (UTC; 1970-01-01 was a Thursday, hour 72)."""
    return ((np.asarray(ts, dtype=float) // HOUR_S + 72) % 168).astype(np.int64)


@dataclass
class Series:
    """Means per time bin of `bin_s` seconds."""

    bin_s: float
    sums: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, ts: float, value: float, count: int = 1) -> None:
        """`value` is the sum of `count` values at `ts` (one reading, or a bin's rollup)."""
        b = int(ts // self.bin_s)
        self.sums[b] += value
        self.counts[b] += count

    def means(self) -> dict[int, float]:
        return {b: self.sums[b] / self.counts[b] for b in self.sums}

    def trim(self, before_ts: float) -> None:
        for b in [b for b in self.sums if b * self.bin_s < before_ts]:
            del self.sums[b], self.counts[b]


def profile_of(bins: dict[int, float], bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count per hour of the week."""
    sums, counts = np.zeros(168), np.zeros(168)
    if bins:
        keys = np.fromiter(bins, dtype=float)
        values = np.fromiter(bins.values(), dtype=float)
        hours = hour_of_week(keys * bin_s + bin_s / 2)
        np.add.at(sums, hours, values)
        np.add.at(counts, hours, 1)
    return sums, counts


def blend(
    sums: np.ndarray,
    counts: np.ndarray,
    level: float,
    now: float,
    steps: int,
    step_s: float,
    half_life_s: float,
) -> np.ndarray:
    """`steps` values from `now`, one every `step_s` seconds (the middle of each slot)."""
    times = now + (np.arange(steps) + 0.5) * step_s
    hours = hour_of_week(times)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(counts > 0, sums / counts, np.nan)
    now_profile = mean[hour_of_week(now)]
    decay = np.exp(-(times - now) * math.log(2) / half_life_s)
    shaped = mean[hours] + (level - now_profile) * decay
    return np.where(np.isnan(shaped), level, shaped)


def profile_forecast(
    bins: dict[int, float], bin_s: float, level: float, start: float, steps: int, half_life_s: float
) -> np.ndarray:
    """`steps` values from `start` (one per bin): the hour-of-week profile, the hour of the
    day where that hour of the week was never seen, blended with `level`."""
    sums, counts = profile_of(bins, bin_s)
    # hour_of_week % 24 is the UTC hour of the day (the week starts at a midnight).
    day_sums = sums.reshape(7, 24).sum(axis=0)
    day_counts = counts.reshape(7, 24).sum(axis=0)
    missing = counts == 0
    sums = np.where(missing, np.tile(day_sums, 7), sums)
    counts = np.where(missing, np.tile(day_counts, 7), counts)
    return np.maximum(blend(sums, counts, level, start, steps, bin_s, half_life_s), 0.0)


def backtest(
    bins: dict[int, float], bin_s: float, horizon_bins: int, half_life_s: float
) -> tuple[float, float, int]:
    """(forecast MAE, persistence MAE, points) predicting each bin `horizon_bins` ahead."""
    sums, counts = profile_of(bins, bin_s)
    errors, persistence = [], []
    for b, actual in bins.items():
        origin = bins.get(b - horizon_bins)
        if origin is None:
            continue
        hour = hour_of_week(b * bin_s + bin_s / 2)
        # Leave the predicted value out of its own bucket.
        s, c = sums.copy(), counts.copy()
        s[hour] -= actual
        c[hour] -= 1
        origin_ts = (b - horizon_bins) * bin_s + bin_s / 2
        predicted = blend(s, c, origin, origin_ts - bin_s / 2, horizon_bins + 1, bin_s, half_life_s)
        errors.append(abs(predicted[-1] - actual))
        persistence.append(abs(origin - actual))
    if not errors:
        return math.nan, math.nan, 0
    return float(np.mean(errors)), float(np.mean(persistence)), len(errors)


class BaseLoadForecaster:
    """Keeps binned history of feeders, chargers and PV, read incrementally from the store."""

    def __init__(
        self,
        slot_minutes: float = 15.0,
        history_days: float = 14.0,
        half_life_s: float = 2 * HOUR_S,
    ) -> None:
        self.bin_s = slot_minutes * 60
        self.history_s = history_days * 24 * 3600
        self.half_life_s = half_life_s
        self._series: dict[str, Series] = {}
        self._read_to_ns: dict[str, int] = {}
        self._feeder_of: dict[str, tuple[str, str]] = {}  # device -> (kind, feeder)
        self._report: dict[str, Any] = {}
        self._reported_bin: int | None = None

    def update(self, store: Store, now: float) -> None:
        """Read what arrived since the last update (history_days on the first)."""
        for kind, attribute in (
            ("feeder", "activePower"),
            ("ev_charger", "powerConsumption"),
            ("pv", "activePower"),
        ):
            for reading in store.latest(kind=kind):
                feeder = reading.device_id if kind == "feeder" else reading.fields.get("feeder")
                if feeder is None:
                    continue
                self._feeder_of[reading.device_id] = (kind, str(feeder))
                self._read(store, reading.device_id, attribute, now)
        # The backtest only changes when a bin completes; ticks come far more often.
        bin_now = int(now // self.bin_s)
        if bin_now != self._reported_bin:
            self._report, self._reported_bin = self._backtest(), bin_now

    def base_bins(self, feeder_id: str) -> dict[int, float]:
        """Base load per bin: feeder head − EV charging + PV on that feeder."""
        head = self._series.get(feeder_id)
        if head is None:
            return {}
        base = head.means()
        for device, (kind, feeder) in self._feeder_of.items():
            if kind == "feeder" or feeder != feeder_id or device not in self._series:
                continue
            sign = -1.0 if kind == "ev_charger" else 1.0
            for b, value in self._series[device].means().items():
                if b in base:
                    base[b] += sign * value
        return base

    def forecast(
        self, feeder_id: str, now: float, slots: int, slot_s: float, level: float
    ) -> np.ndarray:
        sums, counts = profile_of(self.base_bins(feeder_id), self.bin_s)
        return blend(sums, counts, level, now, slots, slot_s, self.half_life_s)

    def report(self) -> dict[str, Any]:
        return self._report

    def _read(self, store: Store, device: str, attribute: str, now: float) -> None:
        series = self._series.setdefault(device, Series(self.bin_s))
        start = self._read_to_ns.get(device, int((now - self.history_s) * 1e9))
        end = int(now * 1e9) + 1
        # Weeks come from the store's rollups, the last hours from raw readings.
        for ts, total, count in binned(store, device, attribute, start, end, self.bin_s):
            series.add(ts, total, count)
        self._read_to_ns[device] = end
        series.trim(now - self.history_s)

    def _backtest(self) -> dict[str, Any]:
        """MAE one slot and one hour ahead, against persistence, averaged over feeders."""
        result: dict[str, Any] = {"method": "hour-of-week profile blended with the level"}
        feeders = [d for d, (kind, _) in self._feeder_of.items() if kind == "feeder"]
        for name, horizon in (("1_slot", 1), ("1_hour", max(1, round(HOUR_S / self.bin_s)))):
            scores = [
                backtest(self.base_bins(f), self.bin_s, horizon, self.half_life_s) for f in feeders
            ]
            scored = [s for s in scores if s[2] > 0]
            if scored:
                result[name] = {
                    "mae_kw": round(float(np.mean([s[0] for s in scored])), 4),
                    "persistence_mae_kw": round(float(np.mean([s[1] for s in scored])), 4),
                    "points": int(sum(s[2] for s in scored)),
                }
        return result
