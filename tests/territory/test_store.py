"""One suite, both backends: a real SQLite file and a real influxd."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from territory.readings import Reading, Rejection, RejectReason
from territory.store import AuditEntry, Plan, Store, StoreRejected, StoreUnavailable, open_store
from territory.store.credentials import influx_credentials
from territory.store.influx import InfluxStore
from territory.store.sqlite import SqliteStore
from tests.services import Influxd

_databases = itertools.count()


@pytest.fixture(params=["sqlite", "influx"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store')}/t.db"
    else:
        influxd: Influxd = request.getfixturevalue("influxd")
        url = influxd.store_url(f"test{next(_databases)}")
    opened = open_store(url)
    yield opened
    opened.close()


NOW_NS = time.time_ns() // 1000 * 1000


def reading(
    device: str,
    seconds_ago: float,
    seq: int,
    power: float,
    kind: str = "meter",
    zone: str = "north",
) -> Reading:
    fields: dict[str, float | int | str | bool]
    if kind == "meter":
        fields = {"activePower": power, "activeEnergyImport": 10.0, "feeder": 'f "1", north'}
    else:
        fields = {"availableBikeNumber": int(power), "freeSlotNumber": 2, "totalSlotNumber": 20}
    return Reading(kind, zone, device, NOW_NS - int(seconds_ago * 1e9), seq, fields, NOW_NS)


def test_write_counts_new_and_duplicate_readings(store: Store) -> None:
    first = [reading("m 1", 30, 1, 1.0), reading("m 1", 20, 2, 2.0), reading("m,2", 10, 1, 3.0)]
    assert store.write(first).model_dump() == {"stored": 3, "duplicates": 0}
    again = [reading("m 1", 20, 2, 2.0), reading("m 1", 5, 3, 4.0)]
    assert store.write(again).model_dump() == {"stored": 1, "duplicates": 1}
    stats = store.stats()
    assert (stats.readings, stats.devices) == (4, 2)
    assert stats.duplicates == (1 if isinstance(store, SqliteStore) else None)


def test_latest_is_by_device_time_not_arrival(store: Store) -> None:
    store.write([reading("m-1", 5, 10, 9.0)])
    store.write([reading("m-1", 60, 9, 1.0)])  # arrives later, happened earlier
    store.write([reading("b-1", 5, 1, 7, kind="bike_station", zone="south")])
    (meter,) = store.latest(kind="meter")
    assert (meter.seq, meter.fields["activePower"], meter.fields["feeder"]) == (
        10,
        9.0,
        'f "1", north',
    )
    assert meter.ts_ns == NOW_NS - 5 * 10**9
    (station,) = store.latest(zone="south")
    assert station.fields["availableBikeNumber"] == 7
    assert isinstance(station.fields["availableBikeNumber"], int)
    assert {r.device_id for r in store.latest()} == {"m-1", "b-1"}


def test_latest_within_one_batch_is_the_newest_whatever_the_order(store: Store) -> None:
    store.write([reading("m-2", 30, 1, 1.0), reading("m-2", 2, 3, 3.0), reading("m-2", 50, 2, 2.0)])
    store.write([reading("m-2", 40, 4, 4.0), reading("m-3", 9, 1, 5.0)])
    latest = {r.device_id: r for r in store.latest()}
    assert (latest["m-2"].seq, latest["m-2"].fields["activePower"]) == (3, 3.0)
    assert latest["m-3"].seq == 1


def test_history_is_ordered_and_bounded(store: Store) -> None:
    store.write([reading("m-1", s, 100 - s, float(s)) for s in (50, 10, 30, 70)])
    found = store.history("m-1", NOW_NS - 60 * 10**9, NOW_NS - 10 * 10**9)
    assert [r.fields["activePower"] for r in found] == [50.0, 30.0]


def test_rejects_are_kept_whole_and_counted(store: Store) -> None:
    store.write_rejects(
        [
            Rejection(
                RejectReason.INVALID_JSON, "territory/a/meter/m/telemetry", b"{oops", NOW_NS, "bad"
            ),
            Rejection(
                RejectReason.INVALID_JSON,
                "territory/a/meter/m/telemetry",
                b"\xff\x00",
                NOW_NS,
                "bad",
            ),
            Rejection(
                RejectReason.NON_FINITE, "territory/a/meter/m/telemetry", b'{"a": NaN}', NOW_NS, "x"
            ),
        ]
    )
    assert store.stats().rejected == {"invalid_json": 2, "non_finite": 1}


def test_plans_round_trip_newest_first(store: Store) -> None:
    # Recent plans: older than the plans' retention (a year) they would be expired.
    base = NOW_NS / 1e9 - 1000
    for created in (base + 100, base + 300, base + 200):
        store.write_plan(
            Plan(
                domain="energy",
                created=created,
                status="optimal",
                body={"kpis": {"peak_kw": created}},
            )
        )
    store.write_plan(Plan(domain="slots", created=base + 400, status="fallback", body={}))
    plans = store.plans(domain="energy", limit=2)
    assert [p.created for p in plans] == [base + 300, base + 200]
    assert plans[0].body == {"kpis": {"peak_kw": base + 300}}
    assert store.plans()[0].domain == "slots"


def audit_entry(at: float, action: str = "signin.failed", **fields: str) -> AuditEntry:
    values = {"actor": "", "role": "", "client": "127.0.0.1", "detail": ""} | fields
    return AuditEntry(time=at, action=action, **values)


def test_audit_entries_round_trip_newest_first_whatever_they_hold(store: Store) -> None:
    start = time.time() - 60
    awkward = audit_entry(
        start + 2,
        "optimise.requested",
        actor='otto "the op", chief=1 \\',
        role="operator",
        client="2001:db8::7",
        detail='run 3 energy\nfrom a "plans" page, ok=yes; é ✓',
    )
    entries = [
        audit_entry(start, client="203.0.113.9"),
        audit_entry(start + 1, "signin.succeeded", actor="vera", role="viewer"),
        awkward,
        # Same time, action and role as the one before it: a second entry all the same.
        audit_entry(start + 1, "signin.succeeded", actor="vera", role="viewer", client="::1"),
    ]
    for entry in entries:
        store.append_audit(entry)
    found = store.audit()
    assert found[0] == awkward
    assert awkward.detail == 'run 3 energy from a "plans" page, ok=yes; é ✓'  # one line
    assert [e.action for e in found] == [
        "optimise.requested",
        "signin.succeeded",
        "signin.succeeded",
        "signin.failed",
    ]
    assert {e.client for e in found[1:3]} == {"127.0.0.1", "::1"}
    assert found[3] == entries[0]
    assert [e.time for e in store.audit(since=start + 1)] == [start + 2, start + 1, start + 1]
    assert len(store.audit(limit=1)) == 1


def test_unreachable_influx_raises_store_unavailable() -> None:
    store = InfluxStore("http://127.0.0.1:9", "nowhere", timeout_s=0.5)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.write([reading("m-1", 1, 1, 1.0)])
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.stats()


def test_influx_with_authentication_and_millisecond_precision(tmp_path: Path) -> None:
    server = Influxd(tmp_path / "influxd-auth", auth=True)
    server.start()
    try:
        # With no user yet, InfluxDB 1.x lets the first admin be created anonymously.
        created = httpx.post(
            f"{server.url}/query",
            data={"q": "CREATE USER admin WITH PASSWORD 's3cret' WITH ALL PRIVILEGES"},
        )
        assert created.status_code == 200
        anonymous = open_store(server.store_url("secured"))
        with pytest.raises(StoreUnavailable, match="401"):
            anonymous.write([reading("m-1", 1, 1, 1.0)])
        anonymous.close()

        with_password = f"influx://admin:s3cret@127.0.0.1:{server.port}/secured"
        with pytest.raises(ValueError, match="carries credentials") as refused:
            open_store(with_password)
        assert "s3cret" not in str(refused.value)
        password_file = tmp_path / "influx-password"
        password_file.write_text("s3cret\n")
        environ = {
            "TERRITORY_INFLUX_USERNAME": "admin",
            "TERRITORY_INFLUX_PASSWORD_FILE": str(password_file),
        }
        credentials = influx_credentials(environ)
        assert "s3cret" not in repr(credentials)
        url = f"influx://127.0.0.1:{server.port}/secured?precision=ms"
        store = InfluxStore.from_url(url, credentials)
        store.write([reading("m-1", 1.2345, 1, 1.0)])
        (latest,) = store.latest()
        assert latest.ts_ns == (NOW_NS - 1_234_500_000) // 1_000_000 * 1_000_000
        store.close()
    finally:
        server.stop()


def test_sqlite_refusal_is_store_rejected_and_writes_nothing_of_the_batch(
    sqlite_store: SqliteStore,
) -> None:
    # A policy the database itself enforces: SQLite refuses the row as a constraint (on
    # the table of devices, which a device's first reading adds to).
    sqlite_store._db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON devices WHEN NEW.device_id = 'm-bad'"
        " BEGIN SELECT RAISE(ABORT, 'm-bad is refused'); END"
    )
    with pytest.raises(StoreRejected, match="m-bad is refused"):
        sqlite_store.write([reading("m-1", 2, 1, 1.0), reading("m-bad", 1, 1, 1.0)])
    assert sqlite_store.stats().readings == 0  # the whole transaction rolled back
    assert sqlite_store.write([reading("m-1", 2, 1, 1.0)]).stored == 1


def test_a_locked_sqlite_file_is_unavailable_not_a_refusal(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "locked.db")
    store._db.execute("PRAGMA busy_timeout = 100")  # the default waits 30 s
    other = sqlite3.connect(tmp_path / "locked.db")
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.write([reading("m-1", 1, 1, 1.0)])
    finally:
        other.rollback()
        other.close()
    assert store.write([reading("m-1", 1, 1, 1.0)]).stored == 1
    store.close()


def test_influx_refusal_is_store_rejected_with_influxdb_s_message(influxd: Influxd) -> None:
    store = open_store(influxd.store_url(f"test{next(_databases)}"))
    store.write([reading("m-1", 30, 1, 1.0)])  # `feeder` is now a string field
    clash = reading("m-2", 20, 1, 1.0)
    clash.fields["feeder"] = 3.0
    with pytest.raises(StoreRejected, match="field type conflict"):
        store.write([clash])
    with pytest.raises(StoreRejected, match="cannot carry"):
        store.write([reading("m-3\\", 10, 1, 1.0)])  # a trailing backslash in a tag
    assert store.write([reading("m-4", 10, 1, 1.0)]).stored == 1
    store.close()


def test_dead_letters_are_pruned_by_age_then_by_count(store: Store) -> None:
    def letter(seconds_ago: int) -> Rejection:
        arrival = NOW_NS - seconds_ago * 10**9
        return Rejection(RejectReason.INVALID_JSON, "territory/a/meter/m/telemetry", b"{", arrival)

    store.write_rejects([letter(age) for age in (500, 400, 300, 200, 100, 50, 10)])
    removed = store.prune_deadletters(before_ns=NOW_NS - 350 * 10**9, keep=3)
    assert removed == 4  # 500 and 400 s old by age, then 300 and 200 over the cap
    assert store.stats().rejected == {"invalid_json": 3}
    assert store.prune_deadletters(before_ns=NOW_NS - 350 * 10**9, keep=3) == 0
    if isinstance(store, SqliteStore):
        ages = sorted((NOW_NS - d["arrival_ns"]) // 10**9 for d in store.deadletters())  # type: ignore[operator]
        assert ages == [10, 50, 100]
