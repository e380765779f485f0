"""Retention in the SQLite store: aged data removed, and its space given back to the disk.

- Raw readings go a whole day at a time: the day's table is emptied a few devices at a
  time, then dropped. Only that day's pages are read: never a scan of the other days.
  A day goes only once its rollups are made: past the rollups' watermark, raw readings
  stay, whatever their age, so a maintainer catching up loses nothing.
- Rollups go a whole month at a time, their month's table the same way.
- Dead letters and plans older than their retention go in short batches by index; past
  `deadletters_max_rows` the oldest dead letters go too.
- Then the freed pages are handed back to the file system, `RECLAIM_PAGES` at a time
  (PRAGMA incremental_vacuum: the file is created with auto_vacuum=INCREMENTAL).

Every step is its own short write transaction, run under the maintenance `Pace`: the
ingest's writes wait at most one step, and the steps hold the write lock at most the
pace's share of the time.
"""

from __future__ import annotations

import math

from territory.settings import RetentionSettings
from territory.store import sqlite_layout as layout
from territory.store import sqlite_rollups
from territory.store.lifecycle import ExpiryReport, Pace
from territory.store.sqlite import SqliteStore
from territory.store.sqlite_rollups import RAW_EXPIRED_BEFORE

NS = 1_000_000_000
RECLAIM_PAGES = 1000
_DELETE_ROWS = 20_000
_BATCH_ROWS = 5000


def expire(
    store: SqliteStore, retention: RetentionSettings, now_ns: int, pace: Pace
) -> ExpiryReport:
    """One retention pass over every kind of data, then space handed back."""
    report = ExpiryReport()
    busy = pace.busy_s
    raw_before = min(now_ns - _days_ns(retention.raw_days), rolled_up_to(store))
    report.raw_days = expire_raw(store, raw_before, pace)
    report.rollup_partitions = expire_rollups(
        store, now_ns - _days_ns(retention.rollups_days), pace
    )
    report.deadletters = expire_deadletters(
        store, now_ns - _days_ns(retention.deadletters_days), retention.deadletters_max_rows, pace
    )
    report.plans = expire_plans(store, now_ns / NS - retention.plans_days * 86_400, pace)
    report.reclaimed_bytes = reclaim(store, pace)
    report.busy_s = pace.busy_s - busy
    return report


def rolled_up_to(store: SqliteStore) -> int:
    """Where the finest rollups are computed up to (the highest watermark): raw readings
    after it are kept, whatever their age, until their rollups are made."""
    with store.reading() as db:
        (closed,) = db.execute(
            "SELECT max(value) FROM lifecycle WHERE name GLOB 'closed_[0-9]*'"
        ).fetchone()
    return int(closed) if closed is not None else -(2**63)


def _days_ns(days: float) -> int:
    return math.ceil(days * 86_400) * NS


def expire_raw(store: SqliteStore, before_ns: int, pace: Pace) -> list[str]:
    """Drop every day table that ends at or before `before_ns`; returns their names."""
    with store.reading() as db:
        days = [day for day in layout.raw_days(db) if (day + 1) * layout.DAY_NS <= before_ns]
    dropped = []
    for day in days:
        name = layout.day_table(day)
        _empty_table(store, name, "device", pace)
        with pace.step(), store.transaction() as db:
            db.execute(f"DROP TABLE IF EXISTS {name}")
            layout.rebuild_view(db)
            # Marks of readings whose day is gone: nothing is left to compute them from.
            db.execute("DELETE FROM late_marks WHERE start_ns < ?", ((day + 1) * layout.DAY_NS,))
            # A reading that comes later for a day gone is stored, then dropped with it at
            # the next pass: its rollups, built from the whole day, must not be redone.
            db.execute(
                "INSERT INTO lifecycle (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = max(value, excluded.value)",
                (RAW_EXPIRED_BEFORE, (day + 1) * layout.DAY_NS),
            )
        dropped.append(name)
    return dropped


def expire_rollups(store: SqliteStore, before_ns: int, pace: Pace) -> list[str]:
    """Drop every month of rollups that ends at or before `before_ns`."""
    with store.reading() as db:
        tables = [
            name
            for _, month, name in sqlite_rollups.rollup_tables(db)
            if sqlite_rollups.month_bounds(month)[1] <= before_ns
        ]
    for name in tables:
        _empty_table(store, name, "start_ns", pace)
        with pace.step(), store.transaction() as db:
            db.execute(f"DROP TABLE IF EXISTS {name}")
            sqlite_rollups.rebuild_view(db)
    return tables


def _empty_table(store: SqliteStore, name: str, key: str, pace: Pace) -> None:
    """Delete a table's rows `_DELETE_ROWS` at a time, in the order of its key's leading
    column `key` (each step some 50 ms): dropping a full day at once would hold the write
    lock for seconds."""
    while True:
        with store.reading() as db:
            row = db.execute(
                f"SELECT {key} FROM {name} ORDER BY {key} LIMIT 1 OFFSET ?", (_DELETE_ROWS,)
            ).fetchone()
        with pace.step(), store.transaction() as db:
            if row is None:
                db.execute(f"DELETE FROM {name}")
                return
            db.execute(f"DELETE FROM {name} WHERE {key} < ?", row)


def expire_deadletters(
    store: SqliteStore, before_ns: int, max_rows: int | None = None, pace: Pace | None = None
) -> int:
    """Remove dead letters that arrived before `before_ns`, and the oldest beyond
    `max_rows`; returns how many went. The hook for any dead-letter bound."""
    pace = pace or Pace()
    removed = _in_batches(
        store,
        "DELETE FROM deadletters WHERE id IN"
        f" (SELECT id FROM deadletters WHERE arrival_ns < ? LIMIT {_BATCH_ROWS})",
        (before_ns,),
        pace,
    )
    if max_rows is not None:
        removed += _in_batches(
            store,
            "DELETE FROM deadletters WHERE id IN (SELECT id FROM deadletters WHERE id <="
            " (SELECT id FROM deadletters ORDER BY id DESC LIMIT 1 OFFSET ?)"
            f" ORDER BY id LIMIT {_BATCH_ROWS})",
            (max_rows,),
            pace,
        )
    return removed


def expire_plans(store: SqliteStore, before_s: float, pace: Pace | None = None) -> int:
    """Remove plans made before `before_s` (epoch seconds); returns how many went."""
    return _in_batches(
        store,
        f"DELETE FROM plans WHERE id IN (SELECT id FROM plans WHERE created < ? LIMIT {_BATCH_ROWS})",
        (before_s,),
        pace or Pace(),
    )


def _in_batches(store: SqliteStore, delete: str, params: tuple[object, ...], pace: Pace) -> int:
    removed = 0
    while True:
        with pace.step(), store.transaction() as db:
            count = db.execute(delete, params).rowcount
        removed += count
        if count < _BATCH_ROWS:
            return removed


def reclaim(store: SqliteStore, pace: Pace, max_steps: int | None = None) -> int:
    """Hand free pages back to the file system, `RECLAIM_PAGES` a step; returns bytes."""
    with store.reading() as db:
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    given = 0
    for _ in range(max_steps or 2**62):
        with pace.step(), store.reading() as db:
            (free,) = db.execute("PRAGMA freelist_count").fetchone()
            if free:
                # executescript steps the pragma to its end; execute() would free one page.
                db.executescript(f"PRAGMA incremental_vacuum({RECLAIM_PAGES})")
                (left,) = db.execute("PRAGMA freelist_count").fetchone()
        if not free or left == free:  # nothing free, or a file without auto_vacuum
            break
        given += (free - left) * page_size
    if given:
        with store.reading() as db:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    return int(given)
