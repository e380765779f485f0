"""A device's history in steps, from raw readings for short windows, rollups beyond.

Each step comes back as a `Rollup` of that step's length: per numeric attribute the
count, mean, min, max and last value; per state the seconds spent in it. Steps are
aligned on the epoch, like the rollups' bins, so a step is whole bins.

The last step ends with the window: its states are counted up to the window's end.
Read from raw readings, the first step's numbers are those from the window's start
(reading on from where the last window ended counts nothing twice); read from rollups,
it is a whole bin.

- Windows up to `raw_window_s`, or steps that are not whole finest bins: computed here
  from the raw readings.
- Longer windows: from the coarsest rollups whose bin divides the step, combined into
  steps. The bins not yet computed at the end of the window (the rollups lag their bins
  by a pass) are made up from the next finer level, and the finest from raw readings.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store.base import Store
from territory.store.lifecycle import RollupBackend
from territory.store.maintenance import rollup_backend
from territory.store.rollup_engine import watermark_name
from territory.store.rollups import (
    NS,
    Rollup,
    bin_start,
    bin_starts,
    combine,
    compute,
    state_attributes,
)


def series(
    store: Store, device_id: str, start_ns: int, end_ns: int, step_s: int, settings: RollupSettings
) -> list[Rollup]:
    """The device's non-empty steps of `step_s` seconds that overlap [start_ns, end_ns)."""
    if step_s <= 0:
        raise ValueError("a step is at least one second")
    levels = [b for b in settings.bins_s if step_s % b == 0]
    short = end_ns - start_ns <= settings.raw_window_s * NS
    hold_ns = settings.state_hold_s * NS
    if short or not levels:
        readings = store.history(device_id, bin_start(start_ns, step_s) - hold_ns, end_ns)
        found = compute(
            _from(readings, start_ns), step_s, bin_starts(start_ns, end_ns, step_s), hold_ns, end_ns
        )
        return [rollup for rollup in found if not rollup.empty]
    reader = Levels(
        rollup_backend(store),
        settings,
        [device_id],
        lambda start, end: store.history(device_id, start, end),
    )
    finest = reader.level(len(levels) - 1, start_ns, end_ns)
    return into_steps(finest, step_s)


def means(
    store: Store,
    device_id: str,
    attribute: str,
    start_ns: int,
    end_ns: int,
    step_s: int,
    settings: RollupSettings,
) -> list[tuple[int, int, float]]:
    """(step start, count, mean) of one attribute, per step with a value: as `series`,
    reading only that attribute from the rollups (a forecast reads weeks of them)."""
    levels = [b for b in settings.bins_s if step_s % b == 0]
    if end_ns - start_ns <= settings.raw_window_s * NS or not levels:
        return _means_of(series(store, device_id, start_ns, end_ns, step_s, settings), attribute)
    bin_s = levels[-1]
    backend = rollup_backend(store)
    first = bin_start(start_ns, bin_s)
    closed = backend.watermark(watermark_name(bin_s))
    closed = first if closed is None else max(first, min(closed, end_ns))
    kept = backend.read_means(bin_s, device_id, attribute, first, closed)
    if closed < end_ns:
        kept += _means_of(series(store, device_id, closed, end_ns, bin_s, settings), attribute)
    if bin_s == step_s:
        return kept
    totals: dict[int, tuple[int, float]] = {}
    for start, count, mean in kept:
        step = bin_start(start, step_s)
        had, total = totals.get(step, (0, 0.0))
        totals[step] = (had + count, total + mean * count)
    return [(step, count, total / count) for step, (count, total) in sorted(totals.items())]


def _means_of(steps: list[Rollup], attribute: str) -> list[tuple[int, int, float]]:
    found = []
    for step in steps:
        summary = step.numbers.get(attribute)
        if summary is not None:
            found.append((step.start_ns, summary.count, summary.mean))
    return found


RawReader = Callable[[int, int], Iterable[Reading]]
"""Raw readings of the devices read, with start_ns <= ts < end_ns."""


class Levels:
    """Rollups of some devices, level by level, read for all of them at once: each level's
    stored bins in one query, the bins not computed yet made up from the next finer level,
    and the finest from raw readings (`raw`)."""

    def __init__(
        self,
        backend: RollupBackend,
        settings: RollupSettings,
        device_ids: Collection[str],
        raw: RawReader,
    ) -> None:
        self.backend = backend
        self.bins = settings.bins_s
        self.hold_ns = settings.state_hold_s * NS
        self.device_ids = device_ids
        self.raw = raw

    def level(self, index: int, start_ns: int, end_ns: int) -> list[Rollup]:
        """Rollups of level `index` over the window, the bins not computed yet made up."""
        bin_s = self.bins[index]
        first = bin_start(start_ns, bin_s)
        closed = self.backend.watermark(watermark_name(bin_s))
        closed = first if closed is None else max(first, min(closed, end_ns))
        kept = self.backend.read_rollups(bin_s, first, closed, self.device_ids)
        if closed >= end_ns:
            return kept
        if index == 0:
            starts = bin_starts(closed, end_ns, bin_s)
            made = [
                rollup
                for readings in by_device(self.raw(closed - self.hold_ns, end_ns)).values()
                for rollup in compute(readings, bin_s, starts, self.hold_ns, end_ns)
            ]
        else:
            made = into_steps(self.level(index - 1, closed, end_ns), bin_s)
        return kept + [rollup for rollup in made if not rollup.empty]


def by_device(readings: Iterable[Reading]) -> dict[str, list[Reading]]:
    """Readings of several devices, each device's apart (in the order they came)."""
    found: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        found[reading.device_id].append(reading)
    return found


def _from(readings: list[Reading], start_ns: int) -> list[Reading]:
    """Readings before the window only carry their states in: the numbers of each step are
    those of its readings from the window's start (so reading on from where the last
    window ended counts no reading twice)."""
    return [
        r
        if r.ts_ns >= start_ns
        else dataclasses.replace(
            r, fields={k: v for k, v in r.fields.items() if k in state_attributes(r.kind)}
        )
        for r in readings
    ]


def into_steps(rollups: Sequence[Rollup], step_s: int) -> list[Rollup]:
    """Rollups (of one device or several) combined into steps of `step_s`, per device."""
    if all(rollup.bin_s == step_s for rollup in rollups):
        return list(rollups)
    steps: dict[tuple[str, int], list[Rollup]] = defaultdict(list)
    for rollup in rollups:
        steps[rollup.device_id, bin_start(rollup.start_ns, step_s)].append(rollup)
    combined = [combine(parts, step_s, start) for (_, start), parts in sorted(steps.items())]
    return [rollup for rollup in combined if not rollup.empty]
