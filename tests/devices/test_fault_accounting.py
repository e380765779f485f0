"""What the twin injects is what ingest reports: rejections by reason, and duplicates."""

from __future__ import annotations

import threading
import time
from collections import Counter

from devices.clock import VirtualClock
from devices.faults import EXPECTED_OUTCOME
from devices.live import LiveRun
from devices.scenario import FaultMix, Scenario
from ingest.worker import IngestWorker
from territory.bus import BrokerAddress
from territory.settings import IngestSettings
from territory.store.sqlite import SqliteStore
from tests.devices.helpers import tiny_document
from tests.services import Mosquitto

EVERY_FAULT = FaultMix(**{kind: 1.0 for kind in EXPECTED_OUTCOME})


def test_ingest_counts_exactly_the_faults_the_twin_injected(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    scenario = Scenario.model_validate(tiny_document(faults=EVERY_FAULT.model_dump()))
    settings = IngestSettings(client_id="fault-accounting", deadletter_publish=False)
    worker = IngestWorker(BrokerAddress.from_url(mosquitto.url), sqlite_store, settings)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert worker.wait_subscribed(10)
        run = LiveRun(
            scenario,
            mosquitto.url,
            seed=9,
            faults=0.3,
            duration_s=120.0,
            clock=VirtualClock(time.time()),
        )
        run.connect_and_run()
        sent = sum(run.twin.published.values())
        deadline = time.monotonic() + 30
        while _sample(worker, "ingest_received_total") < sent and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    injected = run.twin.faults.injected
    assert set(injected) == set(EXPECTED_OUTCOME), "every kind of fault was injected"
    assert _sample(worker, "ingest_received_total") == sent
    expected = run.twin.faults.expected_outcomes()
    duplicates = expected.pop("duplicate")
    assert Counter(worker.metrics.rejected_by_reason()) == expected
    assert _sample(worker, "ingest_duplicates_total") == duplicates
    assert sqlite_store.stats().rejected == dict(expected)


def _sample(worker: IngestWorker, name: str) -> float:
    return worker.metrics.registry.get_sample_value(name) or 0.0
