"""The ingest worker against a real mosquitto and a real SQLite file."""

from __future__ import annotations

import json
import time

from territory.store.sqlite import SqliteStore
from tests.ingest.helpers import publisher, wait_until, worker_thread
from tests.services import Mosquitto


def meter(seq: int, power: float = 1.5, ts: float | None = None) -> bytes:
    reading = {"ts": ts or time.time(), "seq": seq, "activePower": power, "activeEnergyImport": 3.0}
    return json.dumps(reading).encode()


def test_valid_readings_are_stored_and_bad_ones_dead_lettered(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    letters_seen: list[tuple[str, bytes]] = []
    fixed_ts = time.time()
    with (
        worker_thread(mosquitto.url, sqlite_store, batch_size=10) as worker,
        publisher(mosquitto.url) as pub,
        publisher(mosquitto.url, "deadletter-watcher") as watcher,
    ):
        watcher.on_message = lambda c, u, m: letters_seen.append((m.topic, m.payload))
        watcher.subscribe("territory/deadletter/#", qos=1)
        time.sleep(0.3)
        for seq in range(25):
            pub.publish("territory/north/meter/m-1/telemetry", meter(seq), qos=1).wait_for_publish(
                5
            )
        pub.publish("territory/north/meter/m-1/telemetry", b"{not json", qos=1).wait_for_publish(5)
        pub.publish(
            "territory/north/toaster/t-1/telemetry", meter(0, ts=fixed_ts), qos=1
        ).wait_for_publish(5)
        assert wait_until(lambda: sqlite_store.stats().readings == 25)
        assert wait_until(lambda: sum(sqlite_store.stats().rejected.values()) == 2)
        # Counted once the worker collects the write, a moment after the store has it.
        assert wait_until(
            lambda: worker.metrics.rejected_by_reason() == {"invalid_json": 1, "unknown_kind": 1}
        )
        assert wait_until(lambda: len(letters_seen) == 2)
        assert sorted(letters_seen) == [
            ("territory/deadletter/invalid_json", b"{not json"),
            ("territory/deadletter/unknown_kind", meter(0, ts=fixed_ts)),
        ]

    stats = sqlite_store.stats()
    assert stats.devices == 1
    assert stats.rejected == {"invalid_json": 1, "unknown_kind": 1}
    letters = sqlite_store.deadletters()
    assert {letter["topic"] for letter in letters} == {
        "territory/north/meter/m-1/telemetry",
        "territory/north/toaster/t-1/telemetry",
    }


def test_redelivered_readings_collapse_and_latest_follows_device_time(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    now = time.time()
    with worker_thread(mosquitto.url, sqlite_store) as worker, publisher(mosquitto.url) as pub:
        newest = meter(2, power=9.0, ts=now)
        for payload in (newest, meter(1, power=1.0, ts=now - 60), newest):
            pub.publish("territory/north/meter/m-1/telemetry", payload, qos=1).wait_for_publish(5)
        assert wait_until(lambda: worker.metrics.received._value.get() == 3)
        assert wait_until(lambda: worker.metrics.duplicates._value.get() == 1)

    assert sqlite_store.stats().readings == 2
    (latest,) = sqlite_store.latest(kind="meter")
    assert latest.seq == 2
    assert latest.fields["activePower"] == 9.0


def test_dead_letters_are_bounded_while_the_counters_keep_every_one(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    bounds = {"payload_max_bytes": 8, "retention_s": 3600, "max_rows": 5}
    with (
        worker_thread(mosquitto.url, sqlite_store, batch_size=4, deadletters=bounds) as worker,
        publisher(mosquitto.url) as pub,
    ):
        for n in range(20):
            payload = b"{not json %02d and then some" % n
            pub.publish("territory/north/meter/m-1/telemetry", payload, qos=1).wait_for_publish(5)
        assert wait_until(lambda: worker.metrics.rejected_by_reason() == {"invalid_json": 20})
        assert wait_until(lambda: worker.metrics.deadletters_pruned._value.get() == 15)
        cut = worker.metrics.deadletter_cut_bytes._value.get()

    letters = sqlite_store.deadletters()
    assert [letter["payload"] for letter in letters] == [b"{not jso".decode() for _ in range(5)]
    assert all("payload cut to its first 8 of 26 bytes" in str(d["detail"]) for d in letters)
    assert sqlite_store.stats().rejected == {"invalid_json": 5}
    assert cut == 20 * (26 - 8)
