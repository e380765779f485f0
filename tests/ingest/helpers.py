"""Helpers for the ingest tests: a worker on a thread against the test's broker and store,
a publisher, and waiting for a condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt

from ingest.worker import IngestWorker
from territory.bus import BrokerAddress, connect, make_client
from territory.inventory import Inventory
from territory.settings import IngestSettings
from territory.store import Store


@contextmanager
def worker_thread(
    url: str, store: Store, inventory: Inventory | None = None, **settings: object
) -> Iterator[IngestWorker]:
    worker = IngestWorker(
        BrokerAddress.from_url(url),
        store,
        IngestSettings(**settings),  # type: ignore[arg-type]
        inventory=inventory,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    assert worker.wait_subscribed(10), "worker did not subscribe"
    try:
        yield worker
    finally:
        stop.set()
        thread.join(10)


@contextmanager
def publisher(url: str, client_id: str = "test-publisher") -> Iterator[mqtt.Client]:
    client = make_client(BrokerAddress.from_url(url), client_id)
    connect(client, BrokerAddress.from_url(url))
    client.loop_start()
    try:
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
