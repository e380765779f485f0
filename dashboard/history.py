"""A device's history over a window, raw or aggregated into steps.

Aggregation happens here in Python over the store's raw readings, so that it is the same
for every backend; a bucket holds the readings with bucket_start <= ts < bucket_start+step.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal

from territory.readings import Reading

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
