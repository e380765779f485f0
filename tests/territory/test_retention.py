"""Retention: what has aged out goes, whole days and months at a time on SQLite, by the
project's retention policies on InfluxDB; rollups outlive their raw readings; the space
goes back to the disk; and writers keep writing while it happens."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx

from territory.readings import Reading, Rejection, RejectReason
from territory.settings import MaintenanceSettings, RetentionSettings, RollupSettings
from territory.store import Plan, open_store
from territory.store.influx import InfluxStore
from territory.store.lifecycle import Pace
from territory.store.maintenance import Maintainer, rollup_engine
from territory.store.rollups import Rollup, Summary
from territory.store.sqlite import SqliteStore
from territory.store.sqlite_retention import expire
from tests.services import Influxd

NS = 1_000_000_000
DAY_NS = 86_400 * NS
NOW_NS = time.time_ns()
TODAY = NOW_NS // DAY_NS * DAY_NS


def meters(day_start: int, count: int, device: str = "m-1", seq0: int = 0) -> list[Reading]:
    """`count` readings of one meter spread over a day, with a payload worth some space."""
    step = DAY_NS // count
    return [
        Reading(
            "meter",
            "north",
            device,
            day_start + i * step,
            seq0 + i,
            {"activePower": float(i % 97), "activeEnergyImport": 1e4 + i, "feeder": "f" * 40},
            day_start + i * step,
        )
        for i in range(count)
    ]


def tables(path: Path, pattern: str) -> list[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ? ORDER BY name",
            (pattern,),
        ).fetchall()
    return [name for (name,) in rows]


def test_sqlite_drops_whole_days_and_gives_their_space_back(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = SqliteStore(path)
    for days_ago in range(10, -1, -1):
        for device in ("m-1", "m-2", "m-3"):
            store.write(meters(TODAY - days_ago * DAY_NS, 3000, device))
    assert len(tables(path, "raw_*")) == 11
    with store.reading() as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    # Not before their rollups are made: until then raw readings stay, whatever their age.
    assert expire(store, RetentionSettings(raw_days=7), NOW_NS, Pace()).raw_days == []
    rollup_engine(store, RollupSettings()).refresh(NOW_NS, max_bins=10_000)

    report = expire(store, RetentionSettings(raw_days=7), NOW_NS, Pace())

    # Days that ended 7 days or more before now are gone, the others whole.
    assert len(report.raw_days) == 3
    kept = tables(path, "raw_*")
    assert len(kept) == 8 and not set(kept) & set(report.raw_days)
    assert store.history("m-2", TODAY - 11 * DAY_NS, TODAY - 7 * DAY_NS) == []
    assert len(store.history("m-2", TODAY - 7 * DAY_NS, TODAY + DAY_NS)) == 8 * 3000
    assert store.stats().readings == 8 * 3 * 3000
    with sqlite3.connect(path) as db:  # the view of old still reads what is kept
        assert db.execute("SELECT count(*) FROM readings").fetchone()[0] == 8 * 3 * 3000
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert report.reclaimed_bytes > 0
    assert path.stat().st_size < before * 0.8  # 3 days of 11 gone
    store.close()


def test_rollups_outlive_their_raw_readings_and_go_by_the_month(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "t.db")
    for days_ago in (9, 8, 1):
        store.write(meters(TODAY - days_ago * DAY_NS, 200))
    engine = rollup_engine(store, RollupSettings())
    engine.refresh(NOW_NS, max_bins=10_000)
    old_month = TODAY - 120 * DAY_NS
    engine.backend.write_rollups(900, [_rollup(old_month)])

    report = expire(store, RetentionSettings(raw_days=7, rollups_days=60), NOW_NS, Pace())

    assert len(report.raw_days) == 2
    assert len(report.rollup_partitions) == 1 and report.rollup_partitions[0].startswith(
        "rollup_900_"
    )
    assert engine.backend.read_rollups(900, old_month, old_month + DAY_NS) == []
    daily = engine.backend.read_rollups(86_400, TODAY - 9 * DAY_NS, TODAY - 8 * DAY_NS)
    assert [r.count for r in daily] == [200]  # the day's rollup, its raw readings gone

    # A reading that comes back for a day already expired: stored, but the day's rollups,
    # built from all of its readings, stay as they were; the next pass drops it again.
    late = meters(TODAY - 9 * DAY_NS, 1, seq0=10_000)[0]
    late.fields = {**late.fields, "activePower": 1e5}
    store.write([late])
    engine.refresh(time.time_ns(), max_bins=10_000)
    again = engine.backend.read_rollups(86_400, TODAY - 9 * DAY_NS, TODAY - 8 * DAY_NS)
    assert again == daily
    assert expire(store, RetentionSettings(raw_days=7), NOW_NS, Pace()).raw_days
    store.close()


def _rollup(start: int) -> Rollup:
    summary = Summary(count=1, mean=1.0, min=1.0, max=1.0, last=1.0, last_ns=start)
    return Rollup("m-1", "meter", "north", 900, start, 1, {"activePower": summary})


def test_dead_letters_and_plans_expire_by_age_and_dead_letters_by_count(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "t.db")
    topic = "territory/north/meter/m-1/telemetry"
    old = [
        Rejection(RejectReason.INVALID_JSON, topic, b"{", NOW_NS - 40 * DAY_NS) for _ in range(7)
    ]
    new = [
        Rejection(RejectReason.NON_FINITE, topic, b"{}", NOW_NS - (12 - i) * NS, str(i))
        for i in range(12)
    ]
    store.write_rejects(old + new)
    for days_ago in (400, 10):
        store.write_plan(
            Plan(
                domain="energy", created=NOW_NS / NS - days_ago * 86_400, status="optimal", body={}
            )
        )

    report = expire(store, RetentionSettings(deadletters_max_rows=10), NOW_NS, Pace())

    assert (report.deadletters, report.plans) == (7 + 2, 1)
    assert store.stats().rejected == {"non_finite": 10}
    kept = [d["detail"] for d in store.deadletters(limit=100)]
    assert sorted(kept, key=int) == [str(i) for i in range(2, 12)]  # the newest ten
    assert [round((NOW_NS / NS - p.created) / 86_400) for p in store.plans()] == [10]
    store.close()


def test_expiry_runs_while_a_writer_keeps_writing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    setup = open_store(url)
    for days_ago in range(12, 7, -1):
        setup.write(meters(TODAY - days_ago * DAY_NS, 5000, "old"))
    setup.close()

    stop, failures, written = threading.Event(), [], [0]

    def write_today() -> None:
        writer = open_store(url)  # a connection of its own, as an ingest worker has
        seq = 0
        while not stop.is_set():
            batch = [
                Reading(
                    "meter",
                    "north",
                    "now",
                    NOW_NS + (seq + i) * 10**6,
                    seq + i,
                    {"activePower": 1.0},
                    NOW_NS,
                )
                for i in range(200)
            ]
            try:
                writer.write(batch)
                written[0] += len(batch)
            except Exception as exc:
                failures.append(exc)
            seq += 200
        writer.close()

    thread = threading.Thread(target=write_today)
    thread.start()
    try:
        maintainer = Maintainer(
            open_store(url), RollupSettings(), RetentionSettings(), MaintenanceSettings(duty=1.0)
        )
        dropped: list[str] = []
        for _ in range(10):  # a day of rollups a pass, each day dropped once rolled up
            dropped += maintainer.run_once(NOW_NS).expiry.raw_days
        maintainer.store.close()
    finally:
        stop.set()
        thread.join()
    assert len(dropped) == 5
    assert failures == []
    check = open_store(url)
    assert len(check.history("now", NOW_NS, NOW_NS + DAY_NS)) == written[0] > 0
    check.close()


def test_influx_policies_follow_the_settings(influxd: Influxd) -> None:
    store = open_store(influxd.store_url("retention"))
    assert isinstance(store, InfluxStore)
    retention = RetentionSettings(raw_days=2, rollups_days=365, deadletters_days=3, plans_days=30)
    Maintainer(store, RollupSettings(), retention, MaintenanceSettings()).run_once()
    shown = httpx.get(
        f"{influxd.url}/query", params={"q": 'SHOW RETENTION POLICIES ON "retention"'}
    )
    rows = {row[0]: row for row in shown.json()["results"][0]["series"][0]["values"]}
    assert rows["raw"][1:] == ["48h0m0s", "24h0m0s", 1, True]  # the default: raw readings
    assert rows["rollups"][1] == f"{365 * 24}h0m0s"
    assert (rows["deadletters"][1], rows["plans"][1], rows["audit"][1]) == (
        "72h0m0s",
        "720h0m0s",
        "0s",
    )

    # A reading that had aged out before it arrived is expired, not refused: the rest of
    # its batch is stored and the writer carries on.
    fresh = meters(TODAY, 3, "fresh")
    aged = meters(TODAY - 5 * DAY_NS, 1, "aged")
    assert store.write(fresh + aged).stored == 4
    assert len(store.history("fresh", TODAY, TODAY + DAY_NS)) == 3
    assert store.history("aged", TODAY - 6 * DAY_NS, TODAY) == []
    store.close()
