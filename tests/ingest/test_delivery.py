"""At-least-once delivery with real processes: killed workers, a stopped store, a shared group.

Every test counts the PUBACKed (device, seq) pairs against what the store holds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from territory.store import open_store
from tests.ingest.harness import CountingPublisher, IngestProcess
from tests.ingest.helpers import wait_until, worker_thread
from tests.services import Influxd, Mosquitto


def stored_keys(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT device_id, seq FROM readings").fetchall()


def settle(db: Path, expected: int, timeout: float = 60) -> list[tuple[str, int]]:
    wait_until(lambda: len(stored_keys(db)) >= expected, timeout)
    time.sleep(0.5)  # anything still arriving would be a duplicate; let it show
    return stored_keys(db)


def publish_while_killing(
    worker: IngestProcess, messages: int, kills: int, every: int
) -> CountingPublisher:
    """Publish `messages`, SIGKILLing and restarting the worker after every `every` sent."""
    publisher = CountingPublisher(worker.mqtt_url)
    progress = threading.Event()
    thread = threading.Thread(daemon=True, target=publisher.run, args=(messages, progress, every))
    thread.start()
    for _ in range(kills):
        assert progress.wait(60)
        progress.clear()
        worker.kill()
        time.sleep(0.3)
        worker.start()
    thread.join(120)
    return publisher


def test_killed_worker_loses_nothing_and_stores_no_duplicates(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    worker = IngestProcess(mosquitto.url, f"sqlite:///{db}", tmp_path / "ingest.log")
    worker.start()
    publisher = publish_while_killing(worker, messages=20_000, kills=3, every=4_000)
    keys = settle(db, len(publisher.acked))
    worker.stop()

    assert len(publisher.acked) == 20_000
    lost = publisher.acked - set(keys)
    assert not lost, f"{len(lost)} acknowledged readings never stored"
    assert len(keys) == len(set(keys)), "a reading was stored twice"


def test_auto_ack_negative_control_shows_loss(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """With acknowledgement on receipt, a killed worker loses what it had not written: the
    harness above can see loss, so its zero means something."""
    db = tmp_path / "t.db"
    worker = IngestProcess(
        mosquitto.url,
        f"sqlite:///{db}",
        tmp_path / "ingest.log",
        extra=["--unsafe-auto-ack", "--batch-size", "20000", "--batch-age-ms", "2000"],
    )
    worker.start()
    publisher = publish_while_killing(worker, messages=10_000, kills=2, every=3_000)
    keys = settle(db, len(publisher.acked), timeout=10)
    worker.stop()

    assert len(publisher.acked - set(keys)) > 0


def test_store_outage_is_backpressure_not_loss(mosquitto: Mosquitto, tmp_path: Path) -> None:
    influxd = Influxd(tmp_path / "influxd")
    influxd.start()
    store_url = influxd.store_url("outage")
    worker = IngestProcess(mosquitto.url, store_url, tmp_path / "ingest.log")
    worker.start()
    try:
        publisher = CountingPublisher(mosquitto.url)
        progress = threading.Event()
        thread = threading.Thread(daemon=True, target=publisher.run, args=(20_000, progress, 5_000))
        thread.start()
        assert progress.wait(60)
        influxd.stop()
        degraded = wait_until(lambda: worker.health().get("store_up") is False, 10)
        time.sleep(10)
        influxd.start()
        thread.join(120)

        store = open_store(store_url)
        wait_until(lambda: store.stats().readings >= len(publisher.acked), 60)
        health = worker.health()
        counted = store.stats().readings
        stored = {
            (r.device_id, r.seq) for d in range(50) for r in store.history(f"m-{d}", 0, 2**62)
        }
        store.close()
    finally:
        worker.stop()
        influxd.stop()

    assert degraded, "ingest did not report itself degraded while the store was down"
    assert health["status"] == "ok" and health["store_up"] is True
    assert len(publisher.acked) == 20_000
    assert not publisher.acked - stored, (
        f"{len(publisher.acked - stored)} acknowledged readings lost"
    )
    assert counted == len(stored)


def test_two_workers_in_a_shared_group_store_each_message_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    workers = [
        IngestProcess(
            mosquitto.url,
            f"sqlite:///{db}",
            tmp_path / f"ingest-{n}.log",
            client_id=f"ingest-{n}",
            extra=["--group", "ingest"],
        )
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    publisher = CountingPublisher(mosquitto.url)
    publisher.run(10_000)
    keys = settle(db, len(publisher.acked))
    received = [worker.metric("ingest_received_total") for worker in workers]
    duplicates = [worker.metric("ingest_duplicates_total") for worker in workers]
    for worker in workers:
        worker.stop()

    assert len(keys) == len(set(keys)) == 10_000
    assert set(keys) == publisher.acked
    assert sum(received) == 10_000, "a message went to both workers, or to neither"
    assert all(count > 0 for count in received), f"the group did not split the stream: {received}"
    assert duplicates == [0, 0]


def test_broker_restart_is_survived_and_the_session_resumed(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    worker = IngestProcess(mosquitto.url, f"sqlite:///{db}", tmp_path / "ingest.log")
    worker.start()
    before = CountingPublisher(mosquitto.url)
    before.run(3_000)
    mosquitto.stop()
    noticed = wait_until(lambda: worker.health().get("broker_connected") is False, 10)
    time.sleep(2)
    mosquitto.start()  # same port, same persistence folder
    resumed = wait_until(lambda: worker.health().get("subscribed") is True, 30)
    after = CountingPublisher(mosquitto.url, first_seq=1_000)
    after.run(3_000)
    keys = settle(db, len(before.acked) + len(after.acked))
    worker.stop()

    assert noticed, "ingest did not notice the broker going away"
    assert resumed, "ingest did not reconnect and resubscribe"
    assert len(before.acked) == len(after.acked) == 3_000
    assert not (before.acked | after.acked) - set(keys)
    assert len(keys) == len(set(keys))


def test_a_worker_holds_at_most_max_pending_while_the_store_is_down(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    influxd = Influxd(tmp_path / "influxd")
    influxd.start()
    store = open_store(influxd.store_url("bounded"))
    influxd.stop()
    publisher = CountingPublisher(mosquitto.url)
    held: list[int] = []
    try:
        with worker_thread(
            mosquitto.url, store, client_id="bounded", max_pending=500, batch_size=100
        ) as worker:
            publisher.run(3_000)
            wait_until(lambda: worker.status()[1]["unacked"] == 500, 20)
            for _ in range(20):
                held.append(int(str(worker.status()[1]["unacked"])))
                time.sleep(0.1)
            down = worker.status()[1]["store_up"] is False
            influxd.start()
            wait_until(lambda: store.stats().readings >= 3_000, 60)
            stored = {
                (r.device_id, r.seq)
                for d in range(publisher.devices)
                for r in store.history(f"m-{d}", 0, 2**62)
            }
    finally:
        store.close()
        influxd.stop()

    assert down, "the worker did not report the store down"
    assert max(held) == 500, f"held {max(held)} unacknowledged messages, the bound is 500"
    assert len(publisher.acked) == 3_000
    assert not publisher.acked - stored, f"{len(publisher.acked - stored)} readings lost"
