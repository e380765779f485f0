"""SQLite backend: the embedded default, WAL so other processes read while ingest writes.

A write SQLite refuses as invalid (a constraint, a value it cannot hold) raises
StoreRejected; one it cannot do now (locked, disk I/O, a missing file) raises
StoreUnavailable.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic_core import to_json

from territory.readings import Reading, Rejection
from territory.store import sqlite_layout as layout
from territory.store.base import (
    AuditEntry,
    Plan,
    StoreRejected,
    StoreStats,
    StoreUnavailable,
    WriteResult,
)

log = logging.getLogger("store")
_INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL

# Raw readings live in one table per day (territory.store.sqlite_layout).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS latest (
    device_id TEXT PRIMARY KEY, ts_ns INTEGER NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, zone TEXT NOT NULL, arrival_ns INTEGER NOT NULL, fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS latest_by_kind ON latest (kind, zone);
CREATE TABLE IF NOT EXISTS deadletters (
    id INTEGER PRIMARY KEY, arrival_ns INTEGER NOT NULL, reason TEXT NOT NULL,
    topic TEXT NOT NULL, payload TEXT NOT NULL, encoding TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deadletters_by_reason ON deadletters (reason);
CREATE INDEX IF NOT EXISTS deadletters_by_arrival ON deadletters (arrival_ns);
CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY, domain TEXT NOT NULL, created REAL NOT NULL,
    status TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_by_domain ON plans (domain, created);
CREATE INDEX IF NOT EXISTS plans_by_created ON plans (created);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, time REAL NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, client TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time);
CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO totals VALUES ('duplicates', 0);
"""

# "latest" is by device time, so a late, older reading never replaces a newer one.
_UPSERT_LATEST = (
    "INSERT INTO latest (device_id, ts_ns, seq, kind, zone, arrival_ns, fields)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET"
    " ts_ns = excluded.ts_ns, seq = excluded.seq, kind = excluded.kind, zone = excluded.zone,"
    " arrival_ns = excluded.arrival_ns, fields = excluded.fields"
    " WHERE (excluded.ts_ns, excluded.seq) > (latest.ts_ns, latest.seq)"
)
_COLUMNS = "device_id, ts_ns, seq, kind, zone, arrival_ns, fields"
_AUDIT_COLUMNS = "time, action, actor, role, client, detail"
# Errors about what was written, not about the database: writing it again fails again.
# ValueError covers a string SQLite cannot encode (a lone surrogate) and a value the JSON
# encoder refuses; OverflowError an integer beyond 64 bits.
_REFUSALS = (sqlite3.IntegrityError, sqlite3.DataError, ValueError, OverflowError)


class SqliteStore:
    """Readings, dead letters, plans and the audit log in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            # Space freed by retention goes back to the file system (a step at a time, by
            # territory.store.sqlite_retention); only settable before the first table.
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before write() returns, so a message acknowledged
            # after it survives a power cut too, not only a crash. One fsync per batch.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA + layout.SCHEMA)
            self._upgrade()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        """`sqlite:///relative.db` or `sqlite:////absolute.db`, as SQLAlchemy spells them."""
        path = urlsplit(url).path
        if not path or path == "/":
            raise ValueError(f"no file in store URL {url!r}")
        return cls(path[1:])

    def write(self, readings: Sequence[Reading]) -> WriteResult:
        try:
            # pydantic-core's encoder: several times faster than json.dumps per row.
            rows = [
                (
                    r.device_id,
                    r.ts_ns,
                    r.seq,
                    r.kind,
                    r.zone,
                    r.arrival_ns,
                    to_json(r.fields).decode(),
                )
                for r in readings
            ]
            to_json(rows)  # a value no JSON can carry is refused here, before the transaction
        except ValueError as exc:
            raise StoreRejected(f"not written to {self.path}: {exc}") from exc
        with self._transaction() as db:
            stored = layout.insert(db, readings)
            db.executemany(_UPSERT_LATEST, _newest_per_device(rows))
            if stored < len(rows):
                db.execute(
                    "UPDATE totals SET value = value + ? WHERE name = 'duplicates'",
                    (len(rows) - stored,),
                )
        return WriteResult(stored=stored, duplicates=len(rows) - stored)

    def write_rejects(self, rejects: Sequence[Rejection]) -> None:
        rows = [
            (r.arrival_ns, r.reason.value, r.topic, *r.payload_text(), r.detail) for r in rejects
        ]
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO deadletters (arrival_ns, reason, topic, payload, encoding, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def prune_deadletters(self, before_ns: int, keep: int) -> int:
        with self._transaction() as db:
            before = db.total_changes
            db.execute("DELETE FROM deadletters WHERE arrival_ns < ?", (before_ns,))
            # ids grow with arrival: everything up to the newest past the cap goes.
            db.execute(
                "DELETE FROM deadletters WHERE id <="
                " (SELECT id FROM deadletters ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (keep,),
            )
            removed: int = db.total_changes - before
        return removed

    def latest(self, kind: str | None = None, zone: str | None = None) -> list[Reading]:
        query = f"SELECT {_COLUMNS} FROM latest WHERE (?1 IS NULL OR kind = ?1)"
        query += " AND (?2 IS NULL OR zone = ?2) ORDER BY zone, kind, device_id"
        return list(_readings(self._read(query, (kind, zone))))

    def history(self, device_id: str, start_ns: int, end_ns: int) -> list[Reading]:
        try:
            with self._lock:
                return layout.history(self._db, device_id, start_ns, end_ns)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"read from {self.path} failed: {exc}") from exc

    def stats(self) -> StoreStats:
        try:
            with self._lock:
                readings = layout.count(self._db)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"read from {self.path} failed: {exc}") from exc
        (devices,) = self._read("SELECT count(*) FROM latest", ())[0]
        rejected = self._read("SELECT reason, count(*) FROM deadletters GROUP BY reason", ())
        (duplicates,) = self._read("SELECT value FROM totals WHERE name = 'duplicates'", ())[0]
        return StoreStats(
            readings=readings, devices=devices, rejected=dict(rejected), duplicates=duplicates
        )

    def deadletters(self, limit: int = 100) -> list[dict[str, object]]:
        """The most recent dead letters, newest first."""
        rows = self._read(
            "SELECT arrival_ns, reason, topic, payload, encoding, detail FROM deadletters"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        keys = ("arrival_ns", "reason", "topic", "payload", "encoding", "detail")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def write_plan(self, plan: Plan) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO plans (domain, created, status, body) VALUES (?, ?, ?, ?)",
                (plan.domain, plan.created, plan.status, json.dumps(plan.body)),
            )

    def plans(self, domain: str | None = None, limit: int = 20) -> list[Plan]:
        rows = self._read(
            "SELECT domain, created, status, body FROM plans WHERE (?1 IS NULL OR domain = ?1)"
            " ORDER BY created DESC, id DESC LIMIT ?2",
            (domain, limit),
        )
        return [Plan(domain=d, created=c, status=s, body=json.loads(b)) for d, c, s, b in rows]

    def append_audit(self, entry: AuditEntry) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO audit (time, action, actor, role, client, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (entry.time, entry.action, entry.actor, entry.role, entry.client, entry.detail),
            )

    def audit(self, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        rows = self._read(
            f"SELECT {_AUDIT_COLUMNS} FROM audit WHERE (?1 IS NULL OR time >= ?1)"
            " ORDER BY time DESC, id DESC LIMIT ?2",
            (since, limit),
        )
        keys = _AUDIT_COLUMNS.split(", ")
        return [AuditEntry.model_validate(dict(zip(keys, row, strict=True))) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _upgrade(self) -> None:
        """A file written before raw readings were kept per day: move them, once, and set
        the file up to give freed space back (VACUUM is the only way to switch that on)."""
        moved = layout.migrate_single_table(self._db)
        if moved:
            log.warning("moved %d readings of %s into day tables", moved, self.path)
        (auto_vacuum,) = self._db.execute("PRAGMA auto_vacuum").fetchone()
        if moved or auto_vacuum != _INCREMENTAL:
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("VACUUM")
        if moved or not layout.has_view(self._db):
            with self._db:
                layout.rebuild_view(self._db)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under the lock; any SQLite error becomes
        StoreUnavailable. For the store's own modules (rollups, retention)."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"read from {self.path} failed: {exc}") from exc

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction, as `write` uses: for the store's own modules."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock, rolled back on any error: a refusal of what
        was written becomes StoreRejected, any other SQLite error StoreUnavailable."""
        with self._lock:
            try:
                with self._db:
                    yield self._db
            except _REFUSALS as exc:
                raise StoreRejected(f"{self.path} refused the write: {exc}") from exc
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"write to {self.path} failed: {exc}") from exc

    def _read(self, query: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"read from {self.path} failed: {exc}") from exc


def _readings(rows: Iterable[tuple[Any, ...]]) -> Iterable[Reading]:
    return map(reading_from_row, rows)


def _newest_per_device(rows: list[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    """Each device's newest row of a batch (by device time, then seq): the only one that
    can become its latest, so the only one worth an upsert."""
    newest: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        kept = newest.get(row[0])
        if kept is None or (row[1], row[2]) > (kept[1], kept[2]):
            newest[row[0]] = row
    return newest.values()


def reading_from_row(row: tuple[Any, ...]) -> Reading:
    """A row of `readings` or `latest` (columns in the order of _COLUMNS) as a Reading."""
    device_id, ts_ns, seq, kind, zone, arrival_ns, fields = row
    return Reading(
        kind=str(kind),
        zone=str(zone),
        device_id=str(device_id),
        ts_ns=int(ts_ns),
        seq=int(seq),
        fields=json.loads(str(fields)),
        arrival_ns=int(arrival_ns),
    )
