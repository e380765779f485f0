"""Polling over time: a feed that changes, one that fails its schema, one that times out."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bridges.gbfs.poller import run_pollers
from territory.store.sqlite import SqliteStore
from tests.bridges.gbfs.helpers import NOW, bridge, inventory, stations
from tests.bridges.gbfs.systems import FeedServer, serving, system_files
from tests.ingest.helpers import wait_until, worker_thread
from tests.services import Mosquitto


def test_a_feed_that_changes_between_polls(
    mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    server = FeedServer()
    listed = stations()
    with serving(server), worker_thread(mosquitto.url, sqlite_store, inventory()):
        server.files = system_files("2.3", server.base, listed, NOW - 60)
        with bridge(mosquitto.url, f"{server.base}/gbfs.json", tmp_path) as b:
            first = b.poller.poll()
            # s1 is taken from: 2 bikes fewer, reported later; s2 is not reported again.
            listed[0].bikes, listed[0].docks, listed[0].reported = 5, 13, NOW
            server.files = system_files("2.3", server.base, listed, NOW - 60)
            second = b.poller.poll()
            assert b.publisher.flush()
        assert (first.published, second.published) == (2, 1)
        assert wait_until(lambda: sqlite_store.stats().readings == 3)

    history = sqlite_store.history("velo-s1", 0, (NOW + 1) * 10**9)
    assert [
        (r.ts_ns // 10**9, r.fields["availableBikeNumber"], r.fields["freeSlotNumber"])
        for r in history
    ] == [(NOW - 30, 7, 11), (NOW, 5, 13)]
    assert len(sqlite_store.history("velo-s2", 0, (NOW + 1) * 10**9)) == 1
    # Unchanged files were asked for conditionally and not sent again.
    assert server.served("/gbfs.json", 304) == server.served("/station_information.json", 304) == 1
    assert server.served("/station_status.json", 200) == 2


def test_a_file_that_fails_its_schema_updates_nothing_and_is_dead_lettered_once(
    mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    server = FeedServer()
    listed = stations()
    with serving(server), worker_thread(mosquitto.url, sqlite_store, inventory()):
        server.files = system_files("3.0", server.base, listed, NOW - 60)
        with bridge(mosquitto.url, f"{server.base}/gbfs.json", tmp_path) as b:
            assert b.poller.poll().published == 2
            # Both stations move on, but one record loses a required field: the file is
            # refused whole, so s1's valid update is not applied either.
            listed[0].bikes, listed[0].docks, listed[0].reported = 1, 17, NOW
            listed[1].bikes, listed[1].docks, listed[1].reported = 4, 24, NOW
            broken = system_files("3.0", server.base, listed, NOW)
            del broken["/station_status.json"]["data"]["stations"][1]["is_renting"]
            server.files = broken
            refused = b.poller.poll()
            b.clock.now += 3600  # past any backoff: the same broken file is read again
            again = b.poller.poll()
            assert b.publisher.flush()
        assert refused.published == again.published == 0
        assert "is_renting" in refused.failed["station_status"]
        assert b.poller.feeds["station_status"].failures == 2
        assert wait_until(lambda: sqlite_store.stats().rejected.get("schema_invalid") == 1)

    assert sqlite_store.stats().readings == 2
    assert {r.fields["availableBikeNumber"] for r in sqlite_store.latest()} == {7, 0}
    (letter,) = sqlite_store.deadletters()
    assert letter["reason"] == "schema_invalid"
    assert letter["topic"] == f"{server.base}/station_status.json"
    assert "'is_renting' is a required property" in str(letter["detail"])
    assert "station_status.json v3.0 at data/stations/1" in str(letter["detail"])
    assert '"num_vehicles_available": 4' in str(letter["payload"])


def test_a_feed_that_times_out_backs_off_then_recovers(
    mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    server = FeedServer(slow={"/station_status.json"}, slow_s=2.0)
    with serving(server), worker_thread(mosquitto.url, sqlite_store, inventory()):
        server.files = system_files("2.2", server.base, stations(), NOW)
        with bridge(mosquitto.url, f"{server.base}/gbfs.json", tmp_path, timeout_s=0.3) as b:
            first = b.poller.poll()
            state = b.poller.feeds["station_status"]
            first_wait = state.due - b.clock.now
            assert b.poller.poll().failed == {}  # not due yet: nothing is asked for
            b.clock.now = state.due
            second = b.poller.poll()
            second_wait = state.due - b.clock.now
            server.slow.clear()
            b.clock.now = state.due
            third = b.poller.poll()
            assert b.publisher.flush()
        assert "timed out" in first.failed["station_status"]
        assert "timed out" in second.failed["station_status"]
        assert (first_wait, second_wait) == (1.0, 2.0)  # doubled by the second failure
        assert first.read == ["gbfs", "station_information"]
        assert (first.published, second.published, third.published) == (0, 0, 2)
        assert state.failures == 0
        assert wait_until(lambda: sqlite_store.stats().readings == 2)
    # A timeout is not a message: nothing to dead-letter.
    assert sqlite_store.stats().rejected == {}


def test_the_running_bridge_follows_the_feed_at_its_ttl(
    mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    server = FeedServer()
    listed = stations()
    stop = threading.Event()
    with serving(server), worker_thread(mosquitto.url, sqlite_store, inventory()):
        server.files = system_files("2.3", server.base, listed, NOW - 60, ttl=0)
        with bridge(mosquitto.url, f"{server.base}/gbfs.json", tmp_path, min_interval_s=0.2) as b:
            b.poller.clock = time.monotonic  # the real clock: the loop waits for each ttl
            running = threading.Thread(target=run_pollers, args=([b.poller], stop), daemon=True)
            running.start()
            try:
                assert wait_until(lambda: sqlite_store.stats().readings == 2)
                listed[1].bikes, listed[1].docks, listed[1].reported = 9, 19, NOW
                server.files = system_files("2.3", server.base, listed, NOW, ttl=0)
                assert wait_until(lambda: sqlite_store.stats().readings == 3)
            finally:
                stop.set()
                running.join(10)
    assert not running.is_alive()
    latest = {r.device_id: r for r in sqlite_store.latest()}
    assert latest["velo-s2"].fields["availableBikeNumber"] == 9
