"""The maintenance pass: rollups kept up to date, aged data expired, space given back.

It runs as `territory store maintain`, one process per store, beside the ingest workers
rather than inside them: however many workers share the ingest, exactly one process
moves the rollup watermarks and drops tables; it reads from its own connection, so
SQLite's WAL lets ingest write meanwhile; its Python work (rollups are computed in
Python) does not take the GIL from a worker's MQTT loop; and it can be stopped,
restarted or run by hand (`--once`) without touching the ingest. On SQLite every
step that holds the write lock is short and followed by a rest (`maintenance.duty`),
so a writer waits one step at most.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from territory.settings import MaintenanceSettings, RetentionSettings, RollupSettings
from territory.store.base import Store, StoreUnavailable
from territory.store.lifecycle import ExpiryReport, Pace, RollupBackend
from territory.store.rollup_engine import RefreshReport, RollupEngine

log = logging.getLogger("store")


def rollup_backend(store: Store, pace: Pace | None = None) -> RollupBackend:
    """The rollup engine's view of a store."""
    from territory.store.influx import InfluxStore
    from territory.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        from territory.store.sqlite_rollups import SqliteRollups

        return SqliteRollups(store, pace)
    if isinstance(store, InfluxStore):
        from territory.store.influx_rollups import InfluxRollups

        return InfluxRollups(store)
    raise TypeError(f"no rollups for a {type(store).__name__}")


def for_maintenance(store: Store) -> None:
    """A store's connection as maintenance uses it. On SQLite its commits are not each
    synced: rollups, watermarks and deletions can all be done again, and the WAL keeps
    them in order, so a power cut loses the newest few and never a watermark without the
    rollups before it. The ingest's own connection stays synchronous=FULL."""
    from territory.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        with store.reading() as db:
            db.execute("PRAGMA synchronous=NORMAL")


def rollup_engine(store: Store, settings: RollupSettings, pace: Pace | None = None) -> RollupEngine:
    from territory.store.influx import InfluxStore

    if isinstance(store, InfluxStore):
        # Devices named in a query: a hundred at a time. Raw readings for every device: a
        # kind and a bin at a time (hundreds of thousands of points in a metropolis).
        return RollupEngine(rollup_backend(store, pace), settings, device_chunk=100, bins_at_once=1)
    return RollupEngine(rollup_backend(store, pace), settings, device_chunk=2000)


@dataclass
class PassReport:
    """One maintenance pass."""

    rollups: RefreshReport = field(default_factory=RefreshReport)
    expiry: ExpiryReport = field(default_factory=ExpiryReport)
    seconds: float = 0.0


class Maintainer:
    """Rollups, retention and space for one store."""

    def __init__(
        self,
        store: Store,
        rollups: RollupSettings,
        retention: RetentionSettings,
        settings: MaintenanceSettings,
    ) -> None:
        self.store = store
        self.retention = retention
        self.settings = settings
        self.pace = Pace(settings.duty)
        self.engine = rollup_engine(store, rollups, self.pace)
        for_maintenance(store)

    def run_once(self, now_ns: int | None = None) -> PassReport:
        """Rollups first (they must be computed before their raw readings go), then expiry."""
        from territory.store.retention import expire

        started = time.perf_counter()
        now_ns = time.time_ns() if now_ns is None else now_ns
        report = PassReport()
        # Up to a day of bins a pass: a maintainer that was stopped catches up in a few.
        report.rollups = self.engine.refresh(now_ns, max_bins=96)
        report.expiry = expire(self.store, self.retention, now_ns, self.pace)
        report.seconds = time.perf_counter() - started
        return report

    def run(self, stop: threading.Event) -> None:
        """A pass every `every_s` until `stop` is set; a store that is down is retried,
        and so is a pass that failed otherwise (said with its cause)."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except StoreUnavailable as exc:
                log.warning("maintenance pass failed, retrying next time: %s", exc)
            except Exception:
                # Every step of a pass is done again by the next one, so a pass that
                # fails leaves nothing half done; a maintainer that stopped for it would
                # leave rollups and retention undone until someone noticed.
                log.exception("maintenance pass failed, retrying next time")
            else:
                said = describe(report)
                # A pass that did nothing says so only at debug level: one a minute.
                log.log(logging.INFO if ";" in said else logging.DEBUG, "maintenance: %s", said)
            stop.wait(self.settings.every_s)


def describe(report: PassReport) -> str:
    rollups, expiry = report.rollups, report.expiry
    parts = [f"{report.seconds:.1f} s"]
    closed = ", ".join(f"{n} of {bin_s} s" for bin_s, n in rollups.closed.items() if n)
    if closed:
        parts.append(f"closed {closed}")
    if rollups.late_marks:
        parts.append(f"{rollups.late_marks} late marks ({rollups.recomputed} recomputed)")
    if expiry.raw_days:
        parts.append(f"raw days dropped {', '.join(expiry.raw_days)}")
    if expiry.rollup_partitions:
        parts.append(f"rollup months dropped {', '.join(expiry.rollup_partitions)}")
    if expiry.deadletters or expiry.plans:
        parts.append(f"{expiry.deadletters} dead letters, {expiry.plans} plans expired")
    if expiry.reclaimed_bytes:
        parts.append(f"{expiry.reclaimed_bytes / 2**20:.0f} MiB given back")
    if expiry.busy_s >= 0.1:
        parts.append(f"write lock held {expiry.busy_s:.1f} s")
    return "; ".join(parts)
