"""How the SQLite store lays out raw readings: one table per UTC day, behind a view.

Expiring a day of readings is then dropping that day's table, whatever else the file
holds: never a scan of the others. Each day table is keyed, as before, by (device,
device time, seq), so a redelivered reading is still ignored. To keep a reading small
(a metropolis writes some 48 million a day) its row holds:

- the device as an integer, from the `devices` table (device id <-> integer);
- its kind, zone and attribute names as one integer, from the `series` table;
- its attribute values as a JSON array, in the order of those names;
- its arrival time as the nanoseconds after its device time.

The view `readings` puts the rows back together with the columns of old (device_id,
ts_ns, seq, kind, zone, arrival_ns, fields), so SQL written against the earlier single
table still reads the same readings.

A reading whose device time lies more than `LATE_AFTER_NS` before it is written is
"late": its (device, quarter hour) is marked in `late_marks` in the same transaction,
so that the rollups of a bin already computed are computed again (`rollup_engine`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pydantic_core import to_json

from territory.readings import Reading
from territory.store.lifecycle import LATE_AFTER_NS, MARK_NS

NS = 1_000_000_000
DAY_NS = 86_400 * NS
RAW_PREFIX = "raw_"
_RAW_NAME = re.compile(r"^raw_(\d{8})$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (id INTEGER PRIMARY KEY, device_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, zone TEXT NOT NULL, names TEXT NOT NULL,
    UNIQUE (kind, zone, names)
);
CREATE TABLE IF NOT EXISTS late_marks (
    device INTEGER NOT NULL, start_ns INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (device, start_ns)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lifecycle (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_DAY_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    device INTEGER NOT NULL, ts_ns INTEGER NOT NULL, seq INTEGER NOT NULL,
    series INTEGER NOT NULL, arrival INTEGER NOT NULL, vals TEXT NOT NULL,
    PRIMARY KEY (device, ts_ns, seq)
) WITHOUT ROWID
"""
# Rows as JSON arrays: [device_id, ts_ns, seq, kind, zone, arrival - ts, names, values].
_NEW_DEVICES = (
    "INSERT OR IGNORE INTO devices (device_id) SELECT DISTINCT value->>0 FROM json_each(?)"
)
_NEW_SERIES = (
    "INSERT OR IGNORE INTO series (kind, zone, names)"
    " SELECT DISTINCT value->>3, value->>4, value->>6 FROM json_each(?)"
)
_INSERT = (
    "INSERT INTO {name} (device, ts_ns, seq, series, arrival, vals)"
    " SELECT d.id, value->>1, value->>2, s.id, value->>5, value->>7 FROM json_each(?1)"
    " JOIN devices AS d ON d.device_id = value->>0"
    " JOIN series AS s ON s.kind = value->>3 AND s.zone = value->>4 AND s.names = value->>6"
    " WHERE true ON CONFLICT DO NOTHING"
)
# Rows: [device_id, start of the quarter hour, readings in it].
_MARK_LATE = (
    "INSERT INTO late_marks (device, start_ns, n)"
    " SELECT d.id, value->>1, value->>2 FROM json_each(?)"
    " JOIN devices AS d ON d.device_id = value->>0 WHERE true"
    " ON CONFLICT (device, start_ns) DO UPDATE SET n = n + excluded.n"
)
_EMPTY_RAW = (
    "SELECT 0 AS device, 0 AS ts_ns, 0 AS seq, 0 AS series, 0 AS arrival, '[]' AS vals WHERE 0"
)


def day_of(ts_ns: int) -> int:
    """Days since the epoch (UTC) of a device time."""
    return ts_ns // DAY_NS


def day_table(day: int) -> str:
    return f"{RAW_PREFIX}{datetime.fromtimestamp(day * 86_400, UTC):%Y%m%d}"


def table_day(name: str) -> int | None:
    """The day a raw table holds, or None for any other table."""
    found = _RAW_NAME.match(name)
    if found is None:
        return None
    date = datetime.strptime(found.group(1), "%Y%m%d").replace(tzinfo=UTC)
    return int(date.timestamp()) // 86_400


def raw_days(db: sqlite3.Connection) -> list[int]:
    """The days that have a raw table, oldest first."""
    names = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'raw_[0-9]*'"
    ).fetchall()
    return sorted(day for (name,) in names if (day := table_day(name)) is not None)


@lru_cache(maxsize=4096)
def _names_key(names: tuple[str, ...]) -> str:
    return to_json(list(names)).decode()


@lru_cache(maxsize=4096)
def _names_of(key: str) -> tuple[str, ...]:
    return tuple(json.loads(key))


def insert(db: sqlite3.Connection, readings: Sequence[Reading]) -> int:
    """Write readings into their day tables inside the caller's transaction; returns how
    many were new (the others were already there under the same key)."""
    by_day: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    late: Counter[tuple[str, int]] = Counter()
    late_before = time.time_ns() - LATE_AFTER_NS
    for r in readings:
        row = (
            r.device_id,
            r.ts_ns,
            r.seq,
            r.kind,
            r.zone,
            r.arrival_ns - r.ts_ns,
            _names_key(tuple(r.fields)),
            to_json(list(r.fields.values())).decode(),
        )
        by_day[day_of(r.ts_ns)].append(row)
        if r.ts_ns < late_before:
            late[r.device_id, r.ts_ns - r.ts_ns % MARK_NS] += 1
    everything = to_json([row for rows in by_day.values() for row in rows]).decode()
    db.execute(_NEW_DEVICES, (everything,))
    db.execute(_NEW_SERIES, (everything,))
    days = set(raw_days(db))
    if not set(by_day) <= days:
        for day in set(by_day) - days:
            db.execute(_DAY_TABLE.format(name=day_table(day)))
        rebuild_view(db)
    stored = 0
    for day, rows in by_day.items():
        before = db.total_changes
        # One statement per day: SQLite unpacks the JSON in C with the GIL released,
        # where executemany() would take it back for every row.
        db.execute(_INSERT.format(name=day_table(day)), (to_json(rows).decode(),))
        stored += db.total_changes - before
    if late:
        marks = [(device, start, n) for (device, start), n in late.items()]
        db.execute(_MARK_LATE, (to_json(marks).decode(),))
    return stored


def rebuild_view(db: sqlite3.Connection) -> None:
    """The `readings` view over every day table, as the single table of old read."""
    tables = [day_table(day) for day in raw_days(db)]
    union = " UNION ALL ".join(f"SELECT * FROM {name}" for name in tables) or _EMPTY_RAW
    db.execute("DROP VIEW IF EXISTS readings")
    db.execute(
        "CREATE VIEW readings AS SELECT d.device_id AS device_id, r.ts_ns AS ts_ns,"
        " r.seq AS seq, s.kind AS kind, s.zone AS zone, r.ts_ns + r.arrival AS arrival_ns,"
        " (SELECT json_group_object(n.value, json(r.vals -> n.key))"
        "  FROM json_each(s.names) AS n) AS fields"
        f" FROM ({union}) AS r JOIN devices AS d ON d.id = r.device"
        " JOIN series AS s ON s.id = r.series"
    )


def has_view(db: sqlite3.Connection) -> bool:
    query = "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'readings'"
    return bool(db.execute(query).fetchone()[0])


_COLUMNS = "r.ts_ns, r.seq, s.kind, s.zone, r.arrival, s.names, r.vals"


def history(db: sqlite3.Connection, device_id: str, start_ns: int, end_ns: int) -> list[Reading]:
    """A device's readings with start_ns <= ts < end_ns, oldest first."""
    found: list[Reading] = []
    for day in _days_between(db, start_ns, end_ns):
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM {day_table(day)} AS r JOIN series AS s ON s.id = r.series"
            " WHERE r.device = (SELECT id FROM devices WHERE device_id = ?)"
            " AND r.ts_ns >= ? AND r.ts_ns < ? ORDER BY r.ts_ns, r.seq",
            (device_id, start_ns, end_ns),
        ).fetchall()
        found.extend(_reading(device_id, row) for row in rows)
    return found


def readings_between(
    db: sqlite3.Connection,
    start_ns: int,
    end_ns: int,
    device_ids: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
) -> Iterator[Reading]:
    """Every reading with start_ns <= ts < end_ns, of these devices (all when None) and
    kinds (all when None), grouped by device: a seek per device in each day table."""
    devices = "SELECT id FROM devices"
    params: list[object] = []
    if device_ids is not None:
        devices = "SELECT id FROM devices WHERE device_id IN (SELECT value FROM json_each(?))"
        params.append(to_json(sorted(device_ids)).decode())
    kind_filter = ""
    if kinds is not None:
        kind_filter = " AND s.kind IN (SELECT value FROM json_each(?))"
    for day in _days_between(db, start_ns, end_ns):
        query = (
            f"SELECT d.device_id, {_COLUMNS} FROM ({devices}) AS wanted"
            " JOIN devices AS d ON d.id = wanted.id"
            f" CROSS JOIN {day_table(day)} AS r ON r.device = d.id"
            " JOIN series AS s ON s.id = r.series"
            f" WHERE r.ts_ns >= ? AND r.ts_ns < ?{kind_filter}"
        )
        extra = [to_json(sorted(kinds)).decode()] if kinds is not None else []
        for row in db.execute(query, (*params, start_ns, end_ns, *extra)):
            yield _reading(row[0], row[1:])


def count(db: sqlite3.Connection) -> int:
    return sum(
        db.execute(f"SELECT count(*) FROM {day_table(day)}").fetchone()[0] for day in raw_days(db)
    )


def _days_between(db: sqlite3.Connection, start_ns: int, end_ns: int) -> list[int]:
    if end_ns <= start_ns:
        return []
    first, last = day_of(start_ns), day_of(end_ns - 1)
    return [day for day in raw_days(db) if first <= day <= last]


def _reading(device_id: str, row: Sequence[Any]) -> Reading:
    ts_ns, seq, kind, zone, arrival, names, vals = row
    return Reading(
        kind=kind,
        zone=zone,
        device_id=device_id,
        ts_ns=ts_ns,
        seq=seq,
        fields=dict(zip(_names_of(names), json.loads(vals), strict=True)),
        arrival_ns=ts_ns + arrival,
    )


_SINGLE = "readings_single_table"


def migrate_single_table(db: sqlite3.Connection, batch: int = 50_000) -> int:
    """Move the readings of the earlier single `readings` table into day tables, then drop
    it; returns how many were moved. Runs once, at the first open after an upgrade (and
    carries on where it stopped if that open was interrupted)."""
    is_table = db.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'readings'"
    ).fetchone()[0]
    if is_table:
        with db:  # out of the way of the view that takes its name
            db.execute(f"ALTER TABLE readings RENAME TO {_SINGLE}")
    elif not db.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (_SINGLE,)
    ).fetchone()[0]:
        return 0
    moved = 0
    after: tuple[Any, ...] = ("", -(2**63), -1)
    while True:
        rows = db.execute(
            f"SELECT device_id, ts_ns, seq, kind, zone, arrival_ns, fields FROM {_SINGLE}"
            " WHERE (device_id, ts_ns, seq) > (?, ?, ?) ORDER BY device_id, ts_ns, seq LIMIT ?",
            (*after, batch),
        ).fetchall()
        if not rows:
            break
        with db:
            insert(db, [_legacy_reading(row) for row in rows])
        moved += len(rows)
        after = rows[-1][:3]
    with db:
        db.execute(f"DROP TABLE {_SINGLE}")
        rebuild_view(db)
    return moved


def _legacy_reading(row: Sequence[Any]) -> Reading:
    device_id, ts_ns, seq, kind, zone, arrival_ns, fields = row
    return Reading(kind, zone, device_id, ts_ns, seq, json.loads(fields), arrival_ns)
