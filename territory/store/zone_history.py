"""A zone's history for one kind of device, in steps: what its devices add up to.

Per step and numeric attribute: the sum over the zone's devices of each device's mean in
the step (a zone's total power, its bikes available), how many devices had a value, and
the mean, lowest and highest of those device means. A device that did not report in a
step adds nothing to it: `devices` says how many did.

The devices are given (the caller takes them from the inventory); all of them are read
together, never one query per device:

- windows up to `raw_window_s`, or steps that are not whole finest bins: the raw readings
  of every device in one read (`RollupBackend.raw_readings`: one InfluxQL query, or one
  SQL query per day table on SQLite), stepped here. The first
  step's numbers are those from the window's start, as for one device
  (`territory.store.history`).
- longer windows: the rollups of every device, a query per level (per month table on
  SQLite: `RollupBackend.read_rollups` with the device list), the bins not computed yet made up
  from raw readings of all of them at once, combined into steps per device, then summed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store.base import Store
from territory.store.history import Levels, by_device, into_steps
from territory.store.maintenance import rollup_backend
from territory.store.rollups import NS, Rollup, bin_starts, compute


@dataclass(frozen=True, slots=True)
class ZoneFigure:
    """One numeric attribute of a zone's devices over one step."""

    total: float
    """Sum of the devices' means."""
    devices: int
    """Devices with a value of it in the step."""
    mean: float
    """The devices' means, averaged (total / devices)."""
    min: float
    """The lowest device mean."""
    max: float
    """The highest device mean."""


@dataclass(slots=True)
class ZoneStep:
    """A zone's devices of one kind over one step."""

    start_ns: int
    step_s: int
    devices: int
    """Devices with at least one reading in the step."""
    readings: int
    """Their readings in the step, all together."""
    numbers: dict[str, ZoneFigure] = field(default_factory=dict)


def zone_series(
    store: Store,
    device_ids: Collection[str],
    kind: str,
    start_ns: int,
    end_ns: int,
    step_s: int,
    settings: RollupSettings,
) -> list[ZoneStep]:
    """The steps of `step_s` seconds overlapping [start_ns, end_ns) in which one of these
    devices (of `kind`) has a reading, oldest first."""
    return summed(device_steps(store, device_ids, kind, start_ns, end_ns, step_s, settings))


def device_steps(
    store: Store,
    device_ids: Collection[str],
    kind: str,
    start_ns: int,
    end_ns: int,
    step_s: int,
    settings: RollupSettings,
) -> list[Rollup]:
    """Each device's non-empty steps over the window, read for all of them together."""
    if step_s <= 0:
        raise ValueError("a step is at least one second")
    if not device_ids or end_ns <= start_ns:
        return []
    backend = rollup_backend(store)
    wanted = sorted(device_ids)

    def raw(start: int, end: int) -> Iterable[Reading]:
        return backend.raw_readings(start, end, wanted, [kind])

    levels = [b for b in settings.bins_s if step_s % b == 0]
    short = end_ns - start_ns <= settings.raw_window_s * NS
    hold_ns = settings.state_hold_s * NS
    if short or not levels:
        starts = bin_starts(start_ns, end_ns, step_s)
        found = [
            rollup
            for readings in by_device(raw(start_ns, end_ns)).values()
            for rollup in compute(readings, step_s, starts, hold_ns, end_ns)
        ]
    else:
        reader = Levels(backend, settings, wanted, raw)
        found = into_steps(reader.level(len(levels) - 1, start_ns, end_ns), step_s)
    return [r for r in found if r.count and r.kind == kind]


def summed(steps: Iterable[Rollup]) -> list[ZoneStep]:
    """Device steps (one per device and step at most) added up per step."""
    by_start: dict[int, list[Rollup]] = defaultdict(list)
    for step in steps:
        by_start[step.start_ns].append(step)
    return [_zone_step(start, parts) for start, parts in sorted(by_start.items())]


def _zone_step(start_ns: int, parts: list[Rollup]) -> ZoneStep:
    means: dict[str, list[float]] = defaultdict(list)
    for part in parts:
        for name, summary in part.numbers.items():
            means[name].append(summary.mean)
    return ZoneStep(
        start_ns=start_ns,
        step_s=parts[0].bin_s,
        devices=len({part.device_id for part in parts}),
        readings=sum(part.count for part in parts),
        numbers={
            name: ZoneFigure(
                total=math.fsum(values),
                devices=len(values),
                mean=math.fsum(values) / len(values),
                min=min(values),
                max=max(values),
            )
            for name, values in sorted(means.items())
        },
    )
