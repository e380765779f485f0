"""A device's history over a window, raw or aggregated into steps.

Windows up to the rollups' `raw_window_s` are aggregated here in Python over the store's
raw readings, so that it is the same for every backend; a bucket holds the readings with
bucket_start <= ts < bucket_start+step. Longer windows are read from the store's rollups
(`territory.store.history`), in steps aligned on the epoch, each holding whole bins.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal

from territory.readings import Reading
from territory.settings import RollupSettings, load_settings
from territory.store.rollups import Rollup

Aggregate = Literal["mean", "min", "max", "last", "count"]
AGGREGATES: tuple[str, ...] = ("mean", "min", "max", "last", "count")


def _numbers(fields: dict[str, Any]) -> dict[str, float]:
    return {
        name: float(value)
        for name, value in fields.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def raw_points(readings: Sequence[Reading]) -> list[dict[str, Any]]:
    return [{"ts": r.ts_ns / 1e9, "seq": r.seq, **r.fields} for r in readings]


def aggregate_points(
    readings: Sequence[Reading], start_s: float, step_s: float, how: Aggregate
) -> list[dict[str, Any]]:
    """One point per non-empty bucket: `ts` is the bucket's start, numeric fields aggregated."""
    buckets: dict[int, list[dict[str, float]]] = defaultdict(list)
    for reading in readings:
        index = math.floor((reading.ts_ns / 1e9 - start_s) / step_s)
        buckets[index].append(_numbers(reading.fields))
    points = []
    for index in sorted(buckets):
        rows = buckets[index]
        point: dict[str, Any] = {"ts": start_s + index * step_s, "n": len(rows)}
        for name in sorted({name for row in rows for name in row}):
            values = [row[name] for row in rows if name in row]
            point[name] = _combine(values, how)
        points.append(point)
    return points


@functools.cache
def rollup_settings() -> RollupSettings:
    return load_settings().rollups


def from_rollups(start_s: float, end_s: float, step_s: float) -> bool:
    """Whether a window is read from rollups rather than raw readings."""
    long = end_s - start_s > rollup_settings().raw_window_s
    return long and step_s >= 1 and float(step_s).is_integer()


def step_points(steps: Sequence[Rollup], how: Aggregate) -> list[dict[str, Any]]:
    """One point per step, as `aggregate_points` makes them from raw readings."""
    points = []
    for step in steps:
        point: dict[str, Any] = {"ts": step.start_ns / 1e9, "n": step.count}
        for name, s in sorted(step.numbers.items()):
            values = {"mean": round(s.mean, 6), "min": s.min, "max": s.max, "last": s.last}
            point[name] = values.get(how, float(s.count))
        points.append(point)
    return points


def _combine(values: list[float], how: Aggregate) -> float:
    if how == "mean":
        return round(sum(values) / len(values), 6)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    if how == "last":
        return values[-1]
    return float(len(values))
