"""The SQLite store's layout: a table per day behind the view of old, late readings
marked, and a file of the earlier single-table layout converted at its first open."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from territory.readings import Reading
from territory.store.sqlite import SqliteStore

NS = 1_000_000_000
DAY_NS = 86_400 * NS

LEGACY = """
CREATE TABLE readings (
    device_id TEXT NOT NULL, ts_ns INTEGER NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, zone TEXT NOT NULL, arrival_ns INTEGER NOT NULL, fields TEXT NOT NULL,
    PRIMARY KEY (device_id, ts_ns, seq)
) WITHOUT ROWID;
"""


def test_a_single_table_file_is_moved_into_day_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    now = time.time_ns()
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY)
        db.executemany(
            "INSERT INTO readings VALUES (?, ?, ?, 'meter', 'north', ?, ?)",
            [
                ("m-1", now - days * DAY_NS, days, now, json.dumps({"activePower": float(days)}))
                for days in range(3)
            ],
        )
    store = SqliteStore(path)
    found = store.history("m-1", now - 3 * DAY_NS, now + 1)
    assert [(r.seq, r.fields) for r in found] == [
        (2, {"activePower": 2.0}),
        (1, {"activePower": 1.0}),
        (0, {"activePower": 0.0}),
    ]
    assert found[0].arrival_ns == now and found[0].kind == "meter"
    store.close()
    with sqlite3.connect(path) as db:
        kinds = dict(
            db.execute("SELECT name, type FROM sqlite_master WHERE name GLOB 'r*'").fetchall()
        )
        assert kinds["readings"] == "view"
        assert sum(1 for name in kinds if name.startswith("raw_")) == 3
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental: space given back
        assert db.execute("SELECT count(*), min(seq) FROM readings").fetchone() == (3, 0)


def test_only_late_readings_are_marked(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "t.db")
    now = time.time_ns()
    store.write(
        [
            Reading("meter", "north", "on-time", now - NS, 1, {"activePower": 1.0}, now),
            Reading("meter", "north", "late", now - 3600 * NS, 1, {"activePower": 1.0}, now),
            Reading("meter", "north", "late", now - 3601 * NS, 2, {"activePower": 1.0}, now),
        ]
    )
    with store.reading() as db:
        marks = db.execute(
            "SELECT d.device_id, m.n FROM late_marks AS m JOIN devices AS d ON d.id = m.device"
        ).fetchall()
    assert sum(n for device, n in marks if device == "late") == 2
    assert [device for device, _ in marks if device == "on-time"] == []
    store.close()
