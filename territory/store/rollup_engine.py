"""Keeping rollups up to date: each bin closed once it is over, the bins late readings
changed computed again, any period rebuilt on demand. The same for both stores.

The finest bins are computed from raw readings, each coarser level from the level
before. Every level has a watermark: the bins before it are closed (computed). A pass:

1. closes the finest bins that ended at least `SETTLE_NS` ago, oldest first, for every
   device, a chunk of devices at a time (a reading read once per bin);
2. closes each coarser bin whose finer bins are all closed;
3. takes the late marks (readings written after their bin may have closed) and, for
   each marked device, computes again the closed bins around the mark (a reading also
   changes the states of the bins within `state_hold_s` of it), then the coarser bins
   that hold them, and clears the marks.

Bins before the oldest raw reading kept are never computed again: the readings they
were built from are gone, and a rollup built from a remnant would be wrong.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from territory.kinds import KINDS
from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store.lifecycle import MARK_NS, SETTLE_NS, RollupBackend
from territory.store.rollups import NS, Rollup, bin_start, bin_starts, combine, compute
from territory.store.rollups import state_attributes as _state_attributes

# Kinds with states: only their readings before a bin matter to it (a state carried in).
STATE_KINDS = frozenset(kind for kind in KINDS if _state_attributes(kind))


def watermark_name(bin_s: int) -> str:
    return f"closed_{bin_s}"


@dataclass
class RefreshReport:
    """What one pass (or a rebuild) did."""

    closed: dict[int, int] = field(default_factory=dict)
    """Bins closed per bin length (s), for every device at once."""
    late_marks: int = 0
    recomputed: int = 0
    """Rollups computed again for late marks (all levels)."""
    rollups_written: int = 0
    seconds: float = 0.0


class RollupEngine:
    """Rollups of one store, per the settings' bins."""

    def __init__(
        self,
        backend: RollupBackend,
        settings: RollupSettings,
        device_chunk: int = 2000,
        bins_at_once: int = 8,
    ) -> None:
        self.backend = backend
        self.bins = list(settings.bins_s)
        self.hold_ns = settings.state_hold_s * NS
        self.device_chunk = device_chunk
        self.bins_at_once = bins_at_once

    # -- the pass --------------------------------------------------------------------

    def refresh(self, now_ns: int, max_bins: int = 8, max_marks: int = 20_000) -> RefreshReport:
        """One pass: close what is due (at most `max_bins` finest bins), then late marks."""
        started = time.perf_counter()
        report = RefreshReport()
        self._close_finest(now_ns, max_bins, report)
        self._close_coarser(report)
        self._late(max_marks, report)
        report.seconds = time.perf_counter() - started
        return report

    def rebuild(self, start_ns: int, end_ns: int, now_ns: int) -> RefreshReport:
        """Compute again every rollup of [start_ns, end_ns) whose bin has closed and whose
        raw readings are still kept, for every device."""
        started = time.perf_counter()
        report = RefreshReport()
        finest = self.bins[0]
        kept_from = self.backend.raw_kept_from()
        if kept_from is not None:
            first = max(bin_start(start_ns, finest), bin_start(kept_from, finest))
            end = min(end_ns, now_ns - SETTLE_NS)
            done = first
            for start in range(first, end - finest * NS + 1, finest * NS):
                report.rollups_written += self._compute_all(start, start + finest * NS)
                done = start + finest * NS
            report.closed[finest] = (done - first) // (finest * NS)
            closed = self.backend.watermark(watermark_name(finest))
            if closed is None:
                self._start_watermarks(first)
            if closed is None or first <= closed < done:
                self.backend.set_watermark(watermark_name(finest), done)
            for finer, coarser in itertools.pairwise(self.bins):
                limit = self.backend.watermark(watermark_name(finer)) or first
                for start in bin_starts(first, done, coarser):
                    if start + coarser * NS <= limit:
                        report.rollups_written += self._combine_all(finer, coarser, start)
        self._close_coarser(report)
        report.seconds = time.perf_counter() - started
        return report

    # -- closing ---------------------------------------------------------------------

    def _close_finest(self, now_ns: int, max_bins: int, report: RefreshReport) -> None:
        finest = self.bins[0]
        step = finest * NS
        kept_from = self.backend.raw_kept_from()
        if kept_from is None:
            return
        closed = self.backend.watermark(watermark_name(finest))
        if closed is None:
            closed = bin_start(kept_from, finest)
            self._start_watermarks(closed)
        start = max(closed, bin_start(kept_from, finest))
        closing = 0
        while start + step <= now_ns - SETTLE_NS and closing < max_bins:
            if self.backend.newest_raw(start - self.hold_ns) is None:
                # Silence since: every bin up to now is empty (a reading that comes later
                # is late-marked and computed then).
                start = max(start, bin_start(now_ns - SETTLE_NS, finest))
                self.backend.set_watermark(watermark_name(finest), start)
                break
            # A few bins at once: one read per device for all of them.
            bins = min(max_bins - closing, self.bins_at_once, (now_ns - SETTLE_NS - start) // step)
            report.rollups_written += self._compute_all(start, start + bins * step)
            start += bins * step
            closing += bins
            self.backend.set_watermark(watermark_name(finest), start)
        report.closed[finest] = report.closed.get(finest, 0) + closing

    def _start_watermarks(self, finest_start: int) -> None:
        for bin_s in self.bins:
            if self.backend.watermark(watermark_name(bin_s)) is None:
                self.backend.set_watermark(watermark_name(bin_s), bin_start(finest_start, bin_s))

    def _close_coarser(self, report: RefreshReport) -> None:
        for finer, coarser in itertools.pairwise(self.bins):
            limit = self.backend.watermark(watermark_name(finer))
            closed = self.backend.watermark(watermark_name(coarser))
            if limit is None or closed is None:
                continue
            closing = 0
            while closed + coarser * NS <= limit:
                report.rollups_written += self._combine_all(finer, coarser, closed)
                closed += coarser * NS
                closing += 1
                self.backend.set_watermark(watermark_name(coarser), closed)
            report.closed[coarser] = report.closed.get(coarser, 0) + closing

    def _compute_all(self, start: int, end: int) -> int:
        """The finest rollups of [start, end) for every device; returns how many written."""
        written = 0
        for group in self.backend.groups(self.device_chunk):
            readings = self._readings(start, end, group.device_ids, group.kinds)
            rollups = self._compute(readings, range(start, end, self.bins[0] * NS))
            self.backend.write_rollups(self.bins[0], [r for r in rollups if not r.empty])
            written += sum(not r.empty for r in rollups)
        return written

    def _combine_all(self, finer: int, coarser: int, start: int) -> int:
        written = 0
        for chunk in self._device_chunks():
            rollups = self._combine(finer, coarser, start, chunk)
            self.backend.write_rollups(coarser, rollups)
            written += len(rollups)
        return written

    # -- late marks ------------------------------------------------------------------

    def _late(self, max_marks: int, report: RefreshReport) -> None:
        taken = self.backend.late_marks(max_marks)
        if not taken.marks:
            return
        report.late_marks = len(taken.marks)
        finest = self.bins[0]
        closed = self.backend.watermark(watermark_name(finest))
        kept_from = self.backend.raw_kept_from()
        if closed is not None and kept_from is not None:
            kept_from = bin_start(kept_from, finest)
            # Per day, the finest bins to compute again for each device.
            wanted: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
            for device_id, mark in taken.marks:
                around = bin_starts(mark - self.hold_ns, mark + MARK_NS + self.hold_ns, finest)
                for start in around:
                    if kept_from <= start and start + finest * NS <= closed:
                        wanted[bin_start(start, 86_400)][device_id].add(start)
            for bins_of in wanted.values():
                report.recomputed += self._recompute(bins_of)
        self.backend.clear_late_marks(taken)

    def _recompute(self, bins_of: dict[str, set[int]]) -> int:
        """The finest bins given per device, then the coarser bins that hold them."""
        finest = self.bins[0]
        count = 0
        devices = sorted(bins_of)
        touched: dict[str, set[int]] = defaultdict(set)
        for chunk in _chunks(devices, self.device_chunk):
            first = min(min(bins_of[d]) for d in chunk)
            last = max(max(bins_of[d]) for d in chunk) + finest * NS
            readings = self._readings(first, last, chunk)
            rollups = []
            for device_id, own in readings.items():
                rollups += compute(own, finest, sorted(bins_of[device_id]), self.hold_ns)
            for device_id in set(chunk) - set(readings):
                rollups += [_empty(device_id, finest, start) for start in bins_of[device_id]]
            self.backend.write_rollups(finest, rollups)
            count += len(rollups)
            for device_id in chunk:
                touched[device_id] |= bins_of[device_id]
        for finer, coarser in itertools.pairwise(self.bins):
            closed = self.backend.watermark(watermark_name(coarser)) or 0
            coarse: dict[int, set[str]] = defaultdict(set)
            for device_id, starts in touched.items():
                for start in starts:
                    if bin_start(start, coarser) + coarser * NS <= closed:
                        coarse[bin_start(start, coarser)].add(device_id)
            touched = defaultdict(set)
            for start, devices_of in coarse.items():
                for chunk in _chunks(sorted(devices_of), self.device_chunk):
                    rollups = self._combine(finer, coarser, start, chunk)
                    found = {r.device_id for r in rollups}
                    rollups += [_empty(d, coarser, start) for d in chunk if d not in found]
                    self.backend.write_rollups(coarser, rollups)
                    count += len(rollups)
                for device_id in devices_of:
                    touched[device_id].add(start)
        return count

    # -- reading and computing -------------------------------------------------------

    def _device_chunks(self) -> Iterator[list[str]]:
        return _chunks(self.backend.device_ids(), self.device_chunk)

    def _readings(
        self,
        start: int,
        end: int,
        devices: Sequence[str] | None,
        kinds: frozenset[str] | None = None,
    ) -> dict[str, list[Reading]]:
        """Each device's readings in [start, end), and those of devices with states in the
        `hold_ns` before (the states they carry into the first bin)."""
        grouped: dict[str, list[Reading]] = defaultdict(list)
        stated = STATE_KINDS if kinds is None else STATE_KINDS & kinds
        carried = (
            self.backend.raw_readings(start - self.hold_ns, start, devices, stated)
            if stated
            else iter(())
        )
        own = self.backend.raw_readings(start, end, devices, kinds)
        for reading in itertools.chain(carried, own):
            grouped[reading.device_id].append(reading)
        return grouped

    def _compute(self, readings: dict[str, list[Reading]], starts: Iterable[int]) -> list[Rollup]:
        wanted = list(starts)
        rollups = []
        for own in readings.values():
            rollups += compute(own, self.bins[0], wanted, self.hold_ns)
        return rollups

    def _combine(
        self, finer: int, coarser: int, start: int, devices: Sequence[str]
    ) -> list[Rollup]:
        parts: dict[str, list[Rollup]] = defaultdict(list)
        for rollup in self.backend.read_rollups(finer, start, start + coarser * NS, devices):
            parts[rollup.device_id].append(rollup)
        combined = (combine(own, coarser, start) for own in parts.values())
        return [rollup for rollup in combined if not rollup.empty]


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for index in range(0, len(items), size):
        yield list(items[index : index + size])


def _empty(device_id: str, bin_s: int, start: int) -> Rollup:
    return Rollup(device_id=device_id, kind="", zone="", bin_s=bin_s, start_ns=start, count=0)
