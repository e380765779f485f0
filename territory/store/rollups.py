"""Rollups: what each device did in each time bin, computed from its raw readings.

A rollup is kept per device and bin (15 minutes, then 1 day built from those, by
default):
- for every numeric attribute: the count, mean, min and max, and the last value with
  its device time;
- for every state attribute (one the payload contract enumerates, like an EV charger's
  `status`): the seconds spent in each state. A state holds from its reading until the
  device's next reading of that attribute, and at most `hold_ns` after it: a device that
  falls silent is not taken to stay in its last state for ever. So a bin's states can
  begin with one carried in from a reading before the bin.

Bins are aligned on the epoch (UTC). A coarser bin combines the finer ones it holds,
exactly: counts and seconds add up, min of mins, max of maxes, the mean weighted by the
counts, the last value of the latest. This module is pure arithmetic, shared by both
stores, so that they agree with each other and with the raw readings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import NoneType, UnionType
from typing import Literal, Union, get_args, get_origin

from territory.kinds import KINDS
from territory.readings import FieldValue, Reading

NS = 1_000_000_000


@dataclass(slots=True)
class Summary:
    """One numeric attribute over one bin."""

    count: int
    mean: float
    min: float
    max: float
    last: float
    last_ns: int
    """Device time of the last value."""


@dataclass(slots=True)
class Rollup:
    """One device over one bin."""

    device_id: str
    kind: str
    zone: str
    bin_s: int
    start_ns: int
    count: int
    """Readings in the bin."""
    numbers: dict[str, Summary] = field(default_factory=dict)
    states: dict[str, dict[str, float]] = field(default_factory=dict)
    """Attribute -> state -> seconds spent in it within the bin."""

    @property
    def end_ns(self) -> int:
        return self.start_ns + self.bin_s * NS

    @property
    def empty(self) -> bool:
        return self.count == 0 and not any(self.states.values())


def bin_start(ts_ns: int, bin_s: int) -> int:
    """Start of the bin of `bin_s` seconds that holds `ts_ns` (epoch-aligned)."""
    return ts_ns - ts_ns % (bin_s * NS)


def bin_starts(start_ns: int, end_ns: int, bin_s: int) -> range:
    """Starts of the bins that overlap [start_ns, end_ns)."""
    first = bin_start(start_ns, bin_s)
    return range(first, max(first, end_ns), bin_s * NS)


@lru_cache(maxsize=64)
def state_options(kind: str) -> dict[str, tuple[str, ...]]:
    """The attributes of a kind that name a state (enumerated by the payload contract, or
    boolean), each with the states it can take."""
    model = KINDS.get(kind)
    if model is None:
        return {}
    found = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if get_origin(annotation) in (Union, UnionType):
            annotation = next(a for a in get_args(annotation) if a is not NoneType)
        if get_origin(annotation) is Literal:
            found[name] = tuple(str(option) for option in get_args(annotation))
        elif annotation is bool:
            found[name] = ("false", "true")
    return found


def state_attributes(kind: str) -> frozenset[str]:
    return frozenset(state_options(kind))


def _is_number(value: FieldValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _state(value: FieldValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compute(
    readings: Iterable[Reading],
    bin_s: int,
    starts: Iterable[int],
    hold_ns: int,
    until_ns: int | None = None,
) -> list[Rollup]:
    """The rollups of one device's bins that begin at `starts`, from its readings.

    The readings must hold every reading of the device in those bins and in the
    `hold_ns` before each (for the states carried in); any others are ignored. Bins
    with neither a reading nor a state come back `empty`. States are counted up to
    `until_ns` at most: a bin not over yet holds no time to come.
    """
    ordered = sorted(readings, key=lambda r: (r.ts_ns, r.seq))
    by_bin: dict[int, list[Reading]] = defaultdict(list)
    for reading in ordered:
        by_bin[bin_start(reading.ts_ns, bin_s)].append(reading)
    spells = _spells(ordered, hold_ns)
    rollups = []
    for start in starts:
        inside = by_bin.get(start, [])
        end = start + bin_s * NS if until_ns is None else min(start + bin_s * NS, until_ns)
        rollup = _numbers(inside, bin_s, start)
        if rollup is None:
            rollup = _carried(ordered, bin_s, start)
        rollup.states = _states_within(spells, start, end)
        rollups.append(rollup)
    return rollups


def _numbers(inside: list[Reading], bin_s: int, start: int) -> Rollup | None:
    if not inside:
        return None
    values: dict[str, list[float]] = defaultdict(list)
    last: dict[str, tuple[float, int]] = {}
    for reading in inside:  # oldest first, so the last one written wins
        for name, value in reading.fields.items():
            if _is_number(value):
                values[name].append(float(value))
                last[name] = (float(value), reading.ts_ns)
    newest = inside[-1]
    return Rollup(
        device_id=newest.device_id,
        kind=newest.kind,
        zone=newest.zone,
        bin_s=bin_s,
        start_ns=start,
        count=len(inside),
        numbers={
            name: Summary(
                count=len(series),
                mean=math.fsum(series) / len(series),
                min=min(series),
                max=max(series),
                last=last[name][0],
                last_ns=last[name][1],
            )
            for name, series in values.items()
        },
    )


def _carried(ordered: list[Reading], bin_s: int, start: int) -> Rollup:
    """A bin without readings of its own: named after the reading whose states it carries."""
    before = [r for r in ordered if r.ts_ns < start]
    source = before[-1] if before else ordered[-1] if ordered else None
    return Rollup(
        device_id=source.device_id if source else "",
        kind=source.kind if source else "",
        zone=source.zone if source else "",
        bin_s=bin_s,
        start_ns=start,
        count=0,
    )


# (attribute, state, from ns, to ns): a state held over [from, to).
Spell = tuple[str, str, int, int]


def _spells(ordered: list[Reading], hold_ns: int) -> list[Spell]:
    """Each state reading held until the next reading of that attribute, at most hold_ns."""
    timelines: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for reading in ordered:
        for name in state_attributes(reading.kind):
            value = reading.fields.get(name)
            if value is not None:
                timelines[name].append((reading.ts_ns, _state(value)))
    spells = []
    for name, timeline in timelines.items():
        for index, (ts, state) in enumerate(timeline):
            until = ts + hold_ns
            if index + 1 < len(timeline):
                until = min(until, timeline[index + 1][0])
            if until > ts:
                spells.append((name, state, ts, until))
    return spells


def _states_within(spells: list[Spell], start: int, end: int) -> dict[str, dict[str, float]]:
    states: dict[str, dict[str, float]] = {}
    for name, state, since, until in spells:
        overlap = min(until, end) - max(since, start)
        if overlap > 0:
            held = states.setdefault(name, {})
            held[state] = held.get(state, 0.0) + overlap / NS
    return states


def combine(finer: Sequence[Rollup], bin_s: int, start_ns: int) -> Rollup:
    """The rollup of a coarser bin from the finer rollups it holds (any order)."""
    ordered = sorted((r for r in finer if not r.empty), key=lambda r: r.start_ns)
    newest = ordered[-1] if ordered else None
    combined = Rollup(
        device_id=newest.device_id if newest else "",
        kind=newest.kind if newest else "",
        zone=newest.zone if newest else "",
        bin_s=bin_s,
        start_ns=start_ns,
        count=sum(r.count for r in ordered),
    )
    parts: dict[str, list[Summary]] = defaultdict(list)
    for rollup in ordered:
        for name, summary in rollup.numbers.items():
            parts[name].append(summary)
        for name, held in rollup.states.items():
            into = combined.states.setdefault(name, {})
            for state, seconds in held.items():
                into[state] = into.get(state, 0.0) + seconds
    for name, summaries in parts.items():
        count = sum(s.count for s in summaries)
        latest = max(summaries, key=lambda s: s.last_ns)
        combined.numbers[name] = Summary(
            count=count,
            mean=math.fsum(s.mean * s.count for s in summaries) / count,
            min=min(s.min for s in summaries),
            max=max(s.max for s in summaries),
            last=latest.last,
            last_ns=latest.last_ns,
        )
    return combined
