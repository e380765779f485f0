"""Refused readings isolated by splitting, against a real SQLite file and a real influxd:
the others are written, the refused ones named with the store's message."""

from __future__ import annotations

import itertools
import time

from ingest.batch import Batch
from ingest.deadletters import bounded
from ingest.isolate import write_deadletters, write_readings
from territory.readings import Reading, Rejection, RejectReason
from territory.store import open_store
from territory.store.sqlite import SqliteStore
from tests.services import Influxd

NOW_NS = time.time_ns() // 1000 * 1000
_databases = itertools.count()


def meter(n: int, feeder: str | float = "f-1") -> Reading:
    fields = {"activePower": 1.0, "activeEnergyImport": float(n), "feeder": feeder}
    return Reading("meter", "z", f"m-{n % 50}", NOW_NS - n * 1000, n, fields, NOW_NS)


def refuse_devices(store: SqliteStore, devices: list[str]) -> None:
    listed = ", ".join(f"'{d}'" for d in devices)
    store._db.execute(
        f"CREATE TRIGGER refuse BEFORE INSERT ON devices WHEN NEW.device_id IN ({listed})"
        " BEGIN SELECT RAISE(ABORT, 'refused by policy'); END"
    )


def test_sqlite_refusals_are_isolated_and_the_rest_stored(sqlite_store: SqliteStore) -> None:
    readings = [meter(n) for n in range(1000)]
    refuse_devices(sqlite_store, ["m-7", "m-33"])
    result, refused = write_readings(sqlite_store, readings)

    expected = [n for n in range(1000) if n % 50 in (7, 33)]
    assert [r.index for r in refused] == expected
    assert all("refused by policy" in r.message for r in refused)
    assert (result.stored, result.duplicates) == (1000 - len(expected), 0)
    assert sqlite_store.stats().readings == 1000 - len(expected)


def test_influx_refusals_are_isolated_and_the_rest_stored(influxd: Influxd) -> None:
    store = open_store(influxd.store_url(f"isolate{next(_databases)}"))
    store.write([meter(0)])  # `feeder` is a string field from now on
    readings = [meter(n, feeder=float(n) if n in (3, 250, 499) else "f-1") for n in range(1, 500)]
    result, refused = write_readings(store, readings)

    assert [readings[r.index].seq for r in refused] == [3, 250, 499]
    assert all("field type conflict" in r.message for r in refused)
    assert result.stored == 496
    assert store.stats().readings == 497
    store.close()


def test_a_batch_the_store_takes_is_one_write(sqlite_store: SqliteStore) -> None:
    result, refused = write_readings(sqlite_store, [meter(n) for n in range(100)])
    assert (result.stored, refused) == (100, [])
    result, refused = write_readings(sqlite_store, [])
    assert (result.stored, result.duplicates, refused) == (0, 0, [])


def test_a_dead_letter_the_store_refuses_is_kept_in_plain_form(
    sqlite_store: SqliteStore,
) -> None:
    sqlite_store._db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON deadletters WHEN NEW.topic GLOB '*[^ -~]*'"
        " BEGIN SELECT RAISE(ABORT, 'ASCII topics only'); END"
    )
    plain = Rejection(RejectReason.INVALID_JSON, "territory/z/meter/m/telemetry", b"{", NOW_NS)
    odd = Rejection(RejectReason.INVALID_TOPIC, "territory/zöne/meter/m/telemetry", b"{}", NOW_NS)
    write_deadletters(sqlite_store, [plain, odd, plain])

    letters = sqlite_store.deadletters()
    assert len(letters) == 3
    (kept,) = [d for d in letters if d["reason"] == "invalid_topic"]
    assert kept["topic"] == "territory/z\\xf6ne/meter/m/telemetry"
    assert kept["payload"] == "e30="  # base64 of {}
    assert "ASCII topics only" in str(kept["detail"])


def test_a_cut_payload_keeps_whole_characters_and_says_so() -> None:
    payload = ("é" * 10).encode()  # 20 bytes, two per character
    rejection = Rejection(RejectReason.OVERSIZE, "t", payload, NOW_NS, "too big")
    cut = bounded(rejection, 7)
    assert cut.payload == ("é" * 3).encode()
    assert cut.cut == 14
    assert cut.detail == "too big; payload cut to its first 6 of 20 bytes"
    assert bounded(rejection, 20) is rejection


def test_a_batch_knows_which_message_each_reading_came_from() -> None:
    first, second = Batch(100, 1.0), Batch(100, 1.0)
    first.add([meter(1), meter(2)], None, 1, "t/a", b"a")
    first.add([], Rejection(RejectReason.INVALID_JSON, "t/x", b"x", NOW_NS), 2, "t/x", b"x")
    second.add([meter(3)], None, 3, "t/b", b"b")
    second.add([meter(4), meter(5)], None, 4, "t/c", b"c")
    second.absorb(first)  # the earlier batch goes first
    sources = [second.sources[second.source_of(i)][1:] for i in range(len(second.readings))]
    assert [r.seq for r in second.readings] == [1, 2, 3, 4, 5]
    assert sources == [("t/a", b"a"), ("t/a", b"a"), ("t/b", b"b"), ("t/c", b"c"), ("t/c", b"c")]
    assert second.acks == [1, 2, 3, 4]
