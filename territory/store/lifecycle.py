"""What rollups, retention and backups need from a store, whatever its backend.

The rollups of a bin are computed once the bin has closed and `SETTLE_NS` has passed
(the "closing" pass). A reading written later than `LATE_AFTER_NS` after its device time
may belong to a bin already closed, so the store marks its (device, quarter hour) as it
writes it; the next pass computes the bins around each mark again. `SETTLE_NS` exceeds
`LATE_AFTER_NS` by the clock difference allowed between a writer and the maintainer.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from territory.readings import Reading
from territory.store.rollups import Rollup

NS = 1_000_000_000
LATE_AFTER_NS = 30 * NS
SETTLE_NS = 60 * NS
MARK_NS = 900 * NS
"""The span a late mark covers: a quarter hour of one device."""


@dataclass(frozen=True)
class LateMarks:
    """Marks taken from a store: (device id, start of its quarter hour), and what the store
    needs to clear exactly these once they are dealt with."""

    marks: list[tuple[str, int]]
    token: object = None


@dataclass(frozen=True)
class DeviceGroup:
    """Some devices: these (all when None) of these kinds (all when None)."""

    device_ids: list[str] | None = None
    kinds: frozenset[str] | None = None


class RollupBackend(Protocol):
    """The store operations the rollup engine is built on."""

    def watermark(self, name: str) -> int | None:
        """A value the engine saved under this name, or None."""
        ...

    def set_watermark(self, name: str, value: int) -> None: ...

    def raw_kept_from(self) -> int | None:
        """The device time from which raw readings are kept whole, or None when there are
        none. Bins before it are never computed again: their raw readings are gone."""
        ...

    def newest_raw(self, since_ns: int) -> int | None:
        """The device time of the newest raw reading at or after since_ns, or None."""
        ...

    def raw_readings(
        self,
        start_ns: int,
        end_ns: int,
        device_ids: Collection[str] | None = None,
        kinds: Collection[str] | None = None,
    ) -> Iterator[Reading]:
        """Raw readings with start_ns <= ts < end_ns of these devices and kinds (all when
        None), each device's together."""
        ...

    def device_ids(self) -> list[str]:
        """Every device the store has seen."""
        ...

    def groups(self, size: int) -> list[DeviceGroup]:
        """Every device, in groups to read raw readings for a bin by (whatever suits the
        backend: ranges of devices, or kinds)."""
        ...

    def read_rollups(
        self, bin_s: int, start_ns: int, end_ns: int, device_ids: Collection[str] | None = None
    ) -> list[Rollup]:
        """Rollups of `bin_s` bins starting in [start_ns, end_ns), of these devices (all when
        None)."""
        ...

    def read_means(
        self, bin_s: int, device_id: str, attribute: str, start_ns: int, end_ns: int
    ) -> list[tuple[int, int, float]]:
        """(start, count, mean) of one attribute of one device, per `bin_s` bin starting in
        [start_ns, end_ns): what a forecast reads, without the rest of each rollup."""
        ...

    def write_rollups(self, bin_s: int, rollups: Sequence[Rollup]) -> None:
        """Store (or replace) these rollups; an `empty` one removes the bin's rollup."""
        ...

    def late_marks(self, limit: int) -> LateMarks: ...

    def clear_late_marks(self, taken: LateMarks) -> None:
        """Forget these marks, unless a newer reading marked the same place again."""
        ...


@dataclass
class ExpiryReport:
    """What one retention pass removed."""

    raw_days: list[str] = field(default_factory=list)
    rollup_partitions: list[str] = field(default_factory=list)
    deadletters: int = 0
    plans: int = 0
    reclaimed_bytes: int = 0
    busy_s: float = 0.0
    """Time spent holding the store's write lock (SQLite)."""


class Pace:
    """Rests after each step that held the store's write lock, so that the lock is held
    at most `duty` of the time: ingest, writing meanwhile, waits at most one step."""

    def __init__(self, duty: float = 1.0) -> None:
        self.duty = duty
        self.busy_s = 0.0

    @contextmanager
    def step(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            held = time.perf_counter() - started
            self.busy_s += held
            if self.duty < 1.0:
                time.sleep(held * (1.0 / self.duty - 1.0))
