"""Rollups in the SQLite store: one table per bin length and calendar month (UTC).

`rollup_900_202611` holds the 15-minute rollups that start in November 2026. A month
of rollups is then dropped whole when it has aged out, never deleted row by row.

A metropolis makes 2.7 million rollups a day, so a row is kept small. It is keyed by
(start, device): the bins are written in time order, so every row is appended and the
pages fill up (keyed by device first, each device's appends would split pages half
empty); a device's history is then one lookup per bin. The device, and its kind, zone
and numeric attribute names, are integers (`sqlite_layout`'s `devices` and `series`),
and stats is a JSON array, the attributes in the order of the series' names:

    [readings, time from the start to the last reading,
     [[mean, min, max, last(, count(, time to its own last value))], ...],
     {attribute: {state: seconds}}]                          (only when there are states)

An attribute's count is left out when it is the bin's count of readings (null when only
its own last time follows), its last time when it is the last reading's. Times are
integer microseconds, or [nanoseconds] when not whole microseconds. Means are kept to
10 significant digits. All of it to keep a row near 100 bytes.

The view `rollups` puts every table together with plain columns, for SQL by hand.
This module also implements the rest of `RollupBackend` for the rollup engine.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pydantic_core import from_json, to_json

from territory.readings import Reading
from territory.store import sqlite_layout as layout
from territory.store.lifecycle import DeviceGroup, LateMarks, Pace
from territory.store.rollups import NS, Rollup, Summary, bin_start, bin_starts
from territory.store.sqlite import SqliteStore

# Set by retention (sqlite_retention): raw readings before it are gone, whatever came
# back since.
RAW_EXPIRED_BEFORE = "raw_expired_before"
_ROLLUP_NAME = re.compile(r"^rollup_(\d+)_(\d{6})$")
_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    start_ns INTEGER NOT NULL, device INTEGER NOT NULL, series INTEGER NOT NULL,
    stats TEXT NOT NULL, PRIMARY KEY (start_ns, device)
) WITHOUT ROWID
"""
# Rows: [device_id, start_ns, kind, zone, names, stats].
_NEW_SERIES = (
    "INSERT OR IGNORE INTO series (kind, zone, names)"
    " SELECT DISTINCT value->>2, value->>3, value->>4 FROM json_each(?)"
)
_UPSERT = (
    "INSERT INTO {name} (start_ns, device, series, stats)"
    " SELECT value->>1, d.id, s.id, value->>5 FROM json_each(?)"
    " JOIN devices AS d ON d.device_id = value->>0"
    " JOIN series AS s ON s.kind = value->>2 AND s.zone = value->>3 AND s.names = value->>4"
    " WHERE true ON CONFLICT (start_ns, device) DO UPDATE"
    " SET series = excluded.series, stats = excluded.stats"
)
# The bins wanted, and the devices wanted: a lookup of each pair by the primary key.
_WANTED = (
    "(SELECT value AS start_ns FROM json_each(?)) AS wanted"
    " CROSS JOIN (SELECT id, device_id FROM devices WHERE device_id IN"
    " (SELECT value FROM json_each(?))) AS d"
    " CROSS JOIN {name} AS r ON r.start_ns = wanted.start_ns AND r.device = d.id"
)
_DELETE = (
    "DELETE FROM {name} WHERE start_ns = ?2"
    " AND device = (SELECT id FROM devices WHERE device_id = ?1)"
)


def month_of(ts_ns: int) -> int:
    """yyyymm of a time (UTC)."""
    moment = datetime.fromtimestamp(ts_ns // NS, UTC)
    return moment.year * 100 + moment.month


def month_bounds(month: int) -> tuple[int, int]:
    """[start, end) of a month in epoch ns."""
    year, number = divmod(month, 100)
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()) * NS, int(end.timestamp()) * NS


def table_name(bin_s: int, month: int) -> str:
    return f"rollup_{bin_s}_{month}"


def rollup_tables(db: sqlite3.Connection) -> list[tuple[int, int, str]]:
    """(bin_s, month, name) of every rollup table, oldest month first."""
    names = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'rollup_[0-9]*'"
    ).fetchall()
    found = []
    for (name,) in names:
        match = _ROLLUP_NAME.match(name)
        if match:
            found.append((int(match.group(1)), int(match.group(2)), name))
    return sorted(found, key=lambda t: (t[1], t[0]))


def rebuild_view(db: sqlite3.Connection) -> None:
    union = " UNION ALL ".join(
        f"SELECT {bin_s} AS bin_s, * FROM {name}" for bin_s, _, name in rollup_tables(db)
    )
    union = union or (
        "SELECT 0 AS bin_s, 0 AS start_ns, 0 AS device, 0 AS series, '[]' AS stats WHERE 0"
    )
    db.execute("DROP VIEW IF EXISTS rollups")
    db.execute(
        "CREATE VIEW rollups AS SELECT d.device_id AS device_id, r.bin_s AS bin_s,"
        " r.start_ns AS start_ns, s.kind AS kind, s.zone AS zone, s.names AS names,"
        " r.stats AS stats"
        f" FROM ({union}) AS r JOIN devices AS d ON d.id = r.device"
        " JOIN series AS s ON s.id = r.series"
    )


def names_of(rollup: Rollup) -> str:
    return to_json(sorted(rollup.numbers)).decode()


def encode(rollup: Rollup) -> str:
    last = max((s.last_ns for s in rollup.numbers.values()), default=rollup.start_ns)
    entries: list[list[Any]] = []
    for name in sorted(rollup.numbers):
        s = rollup.numbers[name]
        entry: list[Any] = [float(f"{s.mean:.10g}"), s.min, s.max, s.last]
        if s.last_ns != last:
            entry += [
                s.count if s.count != rollup.count else None,
                _time(s.last_ns - rollup.start_ns),
            ]
        elif s.count != rollup.count:
            entry.append(s.count)
        entries.append(entry)
    stats: list[Any] = [rollup.count, _time(last - rollup.start_ns), entries]
    if rollup.states:
        stats.append(rollup.states)
    return to_json(stats).decode()


def _time(offset_ns: int) -> int | list[int]:
    return offset_ns // 1000 if offset_ns % 1000 == 0 else [offset_ns]


def _ns(stored: int | list[int]) -> int:
    return stored[0] if isinstance(stored, list) else stored * 1000


@lru_cache(maxsize=4096)
def _names(names: str) -> tuple[str, ...]:
    return tuple(from_json(names))


def decode(
    device_id: str, kind: str, zone: str, names: str, bin_s: int, start_ns: int, stats: str
) -> Rollup:
    count, last, entries, *states = from_json(stats)
    numbers = {}
    for name, entry in zip(_names(names), entries, strict=True):
        mean, low, high, value, *rest = entry
        own_count = rest[0] if rest and rest[0] is not None else count
        offset = _ns(rest[1]) if len(rest) > 1 else _ns(last)
        numbers[name] = Summary(
            own_count, float(mean), float(low), float(high), float(value), start_ns + offset
        )
    return Rollup(
        device_id, kind, zone, bin_s, start_ns, count, numbers, states[0] if states else {}
    )


class SqliteRollups:
    """The rollup engine's view of an SQLite store (`territory.store.lifecycle`)."""

    def __init__(self, store: SqliteStore, pace: Pace | None = None) -> None:
        self.store = store
        self.pace = pace or Pace()

    # -- watermarks and raw readings ---------------------------------------------------

    def watermark(self, name: str) -> int | None:
        with self.store.reading() as db:
            row = db.execute("SELECT value FROM lifecycle WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def set_watermark(self, name: str, value: int) -> None:
        with self.pace.step(), self.store.transaction() as db:
            db.execute(
                "INSERT INTO lifecycle (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def raw_kept_from(self) -> int | None:
        with self.store.reading() as db:
            days = layout.raw_days(db)
        if not days:
            return None
        expired_before = self.watermark(RAW_EXPIRED_BEFORE) or 0
        return max(days[0] * layout.DAY_NS, expired_before)

    def newest_raw(self, since_ns: int) -> int | None:
        with self.store.reading() as db:
            (newest,) = db.execute("SELECT max(ts_ns) FROM latest").fetchone()
        return int(newest) if newest is not None and newest >= since_ns else None

    def raw_readings(
        self,
        start_ns: int,
        end_ns: int,
        device_ids: Collection[str] | None = None,
        kinds: Collection[str] | None = None,
    ) -> Iterator[Reading]:
        with self.store.reading() as db:
            found = list(layout.readings_between(db, start_ns, end_ns, device_ids, kinds))
        return iter(found)

    def device_ids(self) -> list[str]:
        with self.store.reading() as db:
            return [row[0] for row in db.execute("SELECT device_id FROM devices ORDER BY id")]

    def groups(self, size: int) -> list[DeviceGroup]:
        """Ranges of devices: a seek per device in each day table."""
        ids = self.device_ids()
        return [DeviceGroup(ids[i : i + size]) for i in range(0, len(ids), size)]

    # -- rollups -----------------------------------------------------------------------

    def read_rollups(
        self, bin_s: int, start_ns: int, end_ns: int, device_ids: Collection[str] | None = None
    ) -> list[Rollup]:
        found = []
        columns = "d.device_id, s.kind, s.zone, s.names, r.start_ns, r.stats"
        with self.store.reading() as db:
            for name, starts in self._tables(db, bin_s, start_ns, end_ns):
                if device_ids is None:
                    rows = db.execute(
                        f"SELECT {columns} FROM {name} AS r JOIN devices AS d ON d.id = r.device"
                        " JOIN series AS s ON s.id = r.series"
                        " WHERE r.start_ns >= ? AND r.start_ns < ?",
                        (start_ns, end_ns),
                    )
                else:
                    rows = db.execute(
                        f"SELECT {columns} FROM {_WANTED.format(name=name)}"
                        " JOIN series AS s ON s.id = r.series",
                        (to_json(starts).decode(), to_json(sorted(device_ids)).decode()),
                    )
                found += [decode(d, k, z, n, bin_s, start, st) for d, k, z, n, start, st in rows]
        return sorted(found, key=lambda r: (r.device_id, r.start_ns))

    def read_means(
        self, bin_s: int, device_id: str, attribute: str, start_ns: int, end_ns: int
    ) -> list[tuple[int, int, float]]:
        found: list[tuple[int, int, float]] = []
        with self.store.reading() as db:
            for name, starts in self._tables(db, bin_s, start_ns, end_ns):
                rows = db.execute(
                    "SELECT r.start_ns, r.stats ->> '$[0]', r.stats -> ('$[2][' || n.key || ']')"
                    f" FROM {_WANTED.format(name=name)} JOIN series AS s ON s.id = r.series"
                    " JOIN json_each(s.names) AS n ON n.value = ?",
                    (to_json(starts).decode(), to_json([device_id]).decode(), attribute),
                )
                for start, readings, entry in rows:
                    values = from_json(entry) if entry else None
                    if values:
                        count = values[4] if len(values) > 4 and values[4] is not None else readings
                        found.append((int(start), int(count), float(values[0])))
        return sorted(found)

    @staticmethod
    def _tables(
        db: sqlite3.Connection, bin_s: int, start_ns: int, end_ns: int
    ) -> Iterator[tuple[str, list[int]]]:
        """Each table of `bin_s` rollups the window reaches, with the bin starts in both."""
        for table_bin, month, name in rollup_tables(db):
            low, high = month_bounds(month)
            if table_bin == bin_s and low < end_ns and start_ns < high:
                first = max(bin_start(start_ns, bin_s), low)
                yield name, list(bin_starts(first, min(end_ns, high), bin_s))

    def write_rollups(self, bin_s: int, rollups: Sequence[Rollup]) -> None:
        by_month: dict[int, list[Rollup]] = defaultdict(list)
        for rollup in rollups:
            by_month[month_of(rollup.start_ns)].append(rollup)
        for month, own in sorted(by_month.items()):
            name = table_name(bin_s, month)
            kept = [
                (r.device_id, r.start_ns, r.kind, r.zone, names_of(r), encode(r))
                for r in own
                if not r.empty
            ]
            emptied = [(r.device_id, r.start_ns) for r in own if r.empty]
            with self.pace.step(), self.store.transaction() as db:
                if (
                    db.execute(
                        "SELECT count(*) FROM sqlite_master WHERE name = ?", (name,)
                    ).fetchone()[0]
                    == 0
                ):
                    db.execute(_TABLE.format(name=name))
                    rebuild_view(db)
                if kept:
                    rows = to_json(kept).decode()
                    db.execute(_NEW_SERIES, (rows,))
                    db.execute(_UPSERT.format(name=name), (rows,))
                db.executemany(_DELETE.format(name=name), emptied)

    # -- late marks ----------------------------------------------------------------------

    def late_marks(self, limit: int) -> LateMarks:
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT d.device_id, m.start_ns, m.device, m.n FROM late_marks AS m"
                " JOIN devices AS d ON d.id = m.device LIMIT ?",
                (limit,),
            ).fetchall()
        return LateMarks(
            marks=[(device_id, start) for device_id, start, _, _ in rows],
            token=[(device, start, n) for _, start, device, n in rows],
        )

    def clear_late_marks(self, taken: LateMarks) -> None:
        assert isinstance(taken.token, list)
        with self.pace.step(), self.store.transaction() as db:
            # A mark counted up since it was taken stays: its new readings are not done.
            db.executemany(
                "DELETE FROM late_marks WHERE device = ? AND start_ns = ? AND n = ?", taken.token
            )
