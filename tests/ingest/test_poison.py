"""Poison messages through a real `territory ingest` process, into a real SQLite file and
a real influxd: crafted topics and payloads among good messages. Every good message is
stored; each crafted one is stored faithfully or dead-lettered with its reason; a store
refusing readings is never reported down; nothing stays unacknowledged; the worker
keeps running."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from territory.readings import Reading
from territory.store import Store, open_store
from territory.store.influx_retention import DEADLETTERS
from territory.store.sqlite import SqliteStore
from tests.ingest.harness import IngestProcess
from tests.ingest.helpers import publisher, wait_until
from tests.services import Influxd, Mosquitto

NOW = time.time()
GOOD_DEVICES, GOOD_SEQS = 20, 10
LINE_BREAKER = 'f "1",\\ north=\nnext=1 i\\'  # quote, comma, space, =, line break, final \
LONG_TEXT = "x" * 60_000
OVERSIZE = b'{"pad": "' + b"y" * 100_000 + b'"}'
PAYLOAD_MAX = 16 * 1024  # the default ingest.deadletters.payload_max_bytes
VAN = json.dumps(
    {"ts": NOW, "seq": 1, "status": "idle", "station": "bs-1", "load": 0, "capacity": 8}
).encode()


def meter(seq: int, **extra: Any) -> bytes:
    return json.dumps(
        {
            "ts": NOW - 60 + seq % 50,
            "seq": seq,
            "activePower": 1.0,
            "activeEnergyImport": 2.0,
            **extra,
        }
    ).encode()


def topic(zone: str, device: str, kind: str = "meter") -> str:
    return f"territory/{zone}/{kind}/{device}/telemetry"


@dataclass(frozen=True)
class Crafted:
    """A crafted message and what must become of it: a reason, or stored as `check` says."""

    topic: str
    payload: bytes
    reason: str | None = None
    device: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    seq: int = 0


CRAFTED = [
    Crafted(topic("north\\", "m-1"), meter(1), "invalid_topic"),
    Crafted(topic("north", "m-1\\"), meter(1), "invalid_topic"),
    Crafted(topic("a b,c=d", "m-1"), meter(1), "invalid_topic"),
    Crafted(topic("nörth", "m-1"), meter(1), "invalid_topic"),
    Crafted(topic("north", "m" * 65), meter(1), "invalid_topic"),
    Crafted(topic("z" * 300, "m-1"), meter(1), "invalid_topic"),
    Crafted(topic("Z" * 64, "d" * 64), meter(5), device="d" * 64, seq=5),
    Crafted(
        topic("north", "m-lp"),
        meter(6, feeder=LINE_BREAKER),
        device="m-lp",
        fields={"feeder": LINE_BREAKER},
        seq=6,
    ),
    Crafted(
        topic("north", "m-long"),
        meter(7, feeder=LONG_TEXT),
        device="m-long",
        fields={"feeder": LONG_TEXT},
        seq=7,
    ),
    Crafted(topic("north", "m-maxseq"), meter(2**63 - 1), device="m-maxseq", seq=2**63 - 1),
    Crafted(topic("north", "m-overseq"), meter(2**63), "invalid_value"),
    Crafted(topic("north", "m-bin"), b"\xff\xfe{", "invalid_json"),
    Crafted(topic("north", "m-sur"), meter(1, feeder="\ud800"), "invalid_json"),  # \ud800 alone
    Crafted(topic("north", "m-big"), OVERSIZE, "oversize"),
    # The store itself refuses this one: see refuse_vans.
    Crafted(topic("north", "van-refused", "van"), VAN, "store_rejected"),
]
STORED = [c for c in CRAFTED if c.reason is None]
REFUSED = [c for c in CRAFTED if c.reason is not None]


@dataclass
class Backend:
    name: str
    url: str
    influxd: Influxd | None = None

    def open(self) -> Store:
        return open_store(self.url)

    def refuse_vans(self) -> None:
        """Make the store refuse valid van readings, as a store may: an SQLite trigger, or in
        InfluxDB a `station` field that already holds numbers (written by another tool)."""
        store = self.open()
        if isinstance(store, SqliteStore):
            store._db.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON series WHEN NEW.kind = 'van'"
                " BEGIN SELECT RAISE(ABORT, 'van readings are refused here'); END"
            )
        else:
            fields: dict[str, float | int | str | bool] = {"station": 1.0}
            seed = Reading("van", "seed", "van-seed", int(NOW * 1e9), 0, fields, int(NOW * 1e9))
            store.write([seed])
        store.close()

    def refusal(self) -> str:
        return "field type conflict" if self.influxd else "van readings are refused here"

    def readings_besides(self) -> int:
        return 1 if self.influxd else 0  # the van point seeded into InfluxDB

    def deadletters(self) -> list[dict[str, Any]]:
        if self.influxd is None:
            store = SqliteStore.from_url(self.url)
            try:
                return store.deadletters(limit=1000)
            finally:
                store.close()
        answer = httpx.get(
            f"{self.influxd.url}/query",
            # Dead letters have a retention policy of their own.
            params={
                "db": self.url.rsplit("/", 1)[1],
                "q": f'SELECT * FROM "{DEADLETTERS}"."deadletter"',
            },
        ).json()
        series = answer["results"][0].get("series", [])
        return [dict(zip(s["columns"], row, strict=True)) for s in series for row in s["values"]]


@pytest.fixture(params=["sqlite", "influx"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'poison.db'}")
        return
    influxd = Influxd(tmp_path / "influxd")
    influxd.start()
    try:
        yield Backend("influx", influxd.store_url("poison"), influxd)
    finally:
        influxd.stop()


class HealthWatch:
    """Samples the worker's /healthz all along, to show what it ever said."""

    def __init__(self, worker: IngestProcess) -> None:
        self.samples: list[dict[str, object]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(worker,), daemon=True)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self, worker: IngestProcess) -> None:
        while not self._stop.is_set():
            health = worker.health()
            if health:
                self.samples.append(health)
            self._stop.wait(0.02)


def publish_all(url: str, messages: list[tuple[str, bytes]]) -> None:
    with publisher(url, "poison-publisher") as pub:
        for where, payload in messages:
            sent = pub.publish(where, payload, qos=1)
            sent.wait_for_publish(10)
            assert sent.is_published(), where  # PUBACKed: the broker has it


def good_messages(first_seq: int = 0) -> list[tuple[str, bytes]]:
    return [
        (topic("south", f"g-{d}"), meter(first_seq + s))
        for s in range(GOOD_SEQS)
        for d in range(GOOD_DEVICES)
    ]


def test_poison_messages_are_stored_faithfully_or_dead_lettered_and_nothing_waits(
    mosquitto: Mosquitto, backend: Backend, tmp_path: Path
) -> None:
    backend.refuse_vans()
    worker = IngestProcess(
        mosquitto.url,
        backend.url,
        tmp_path / "ingest.log",
        client_id=f"poison-{backend.name}",
        # Long batches: the crafted messages share their batch with good ones.
        extra=["--batch-size", "1000", "--batch-age-ms", "500"],
    )
    worker.start()
    good = good_messages()
    half = len(good) // 2
    messages = good[:half] + [(c.topic, c.payload) for c in CRAFTED] + good[half:]
    expected_readings = len(good) + len(STORED) + backend.readings_besides()
    store = backend.open()
    try:
        with HealthWatch(worker) as watch:
            publish_all(mosquitto.url, messages)
            settled = wait_until(
                lambda: (
                    store.stats().readings == expected_readings
                    and sum(store.stats().rejected.values()) == len(REFUSED)
                ),
                60,
            )
            # The worker goes on: one more good message after the poison is stored too.
            publish_all(mosquitto.url, [(topic("south", "g-after"), meter(99))])
            after = wait_until(lambda: bool(store.history("g-after", 0, 2**62)), 30)
            wait_until(lambda: worker.health().get("unacked") == 0, 10)
            final = worker.health()
        stats = store.stats()
        faithful = {c.device: store.history(c.device, 0, 2**62) for c in STORED}
        good_stored = {
            (r.device_id, r.seq)
            for d in range(GOOD_DEVICES)
            for r in store.history(f"g-{d}", 0, 2**62)
        }
        rejected_metrics = {
            reason: worker.metric(f'ingest_rejected_total{{reason="{reason}"}}')
            for reason in {c.reason for c in REFUSED if c.reason}
        }
        cut_bytes = worker.metric("ingest_deadletter_cut_bytes_total")
        alive = worker.process is not None and worker.process.poll() is None
    finally:
        store.close()
        worker.stop()
    letters = backend.deadletters()

    assert settled, f"stats {stats} after 60 s; see {worker.log_path}"
    assert after, "the worker stopped taking messages after the poison"
    assert alive
    # Every good message is stored.
    assert good_stored == {(f"g-{d}", s) for d in range(GOOD_DEVICES) for s in range(GOOD_SEQS)}
    # Each crafted message the contract accepts is stored exactly as sent.
    for crafted in STORED:
        (reading,) = faithful[crafted.device]
        assert reading.seq == crafted.seq, crafted.device
        for name, value in crafted.fields.items():
            assert reading.fields[name] == value, (crafted.device, name)
    # Each other one is dead-lettered under its reason, with its topic.
    by_topic = {str(letter["topic"]): letter for letter in letters}
    for crafted in REFUSED:
        letter = by_topic[crafted.topic]
        assert letter["reason"] == crafted.reason, crafted.topic
    refused_by_store = by_topic[topic("north", "van-refused", "van")]
    assert backend.refusal() in str(refused_by_store["detail"])
    assert str(refused_by_store["payload"]).encode() == VAN
    assert stats.rejected == {
        reason: sum(1 for c in REFUSED if c.reason == reason)
        for reason in {c.reason for c in REFUSED if c.reason}
    }
    assert rejected_metrics == {reason: float(count) for reason, count in stats.rejected.items()}
    # The oversize payload is kept up to the bound, the cut said and counted.
    oversize = by_topic[topic("north", "m-big")]
    assert len(str(oversize["payload"]).encode()) == PAYLOAD_MAX
    assert f"payload cut to its first {PAYLOAD_MAX} of {len(OVERSIZE)} bytes" in str(
        oversize["detail"]
    )
    assert cut_bytes == len(OVERSIZE) - PAYLOAD_MAX
    # /healthz never called the refusing store down, and nothing is left unacknowledged.
    assert len(watch.samples) > 10
    assert all(sample["store_up"] is True for sample in watch.samples)
    assert final["status"] == "ok" and final["unacked"] == 0
