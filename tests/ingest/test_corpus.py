"""A corpus of bad input interleaved with good, through a real broker into a real store:
0 crashes, every bad message counted under its reason, every good one stored."""

from __future__ import annotations

import json
import random
import time
from collections import Counter

from territory.store.sqlite import SqliteStore
from tests.ingest.helpers import publisher, wait_until, worker_thread
from tests.services import Mosquitto


def corpus(now: float) -> tuple[list[tuple[str, bytes]], Counter[str], set[tuple[str, int]]]:
    """(messages, expected rejects by reason, expected stored (device, seq) keys)."""
    messages: list[tuple[str, bytes]] = []
    rejects: Counter[str] = Counter()
    good: set[tuple[str, int]] = set()

    def valid(device: str, seq: int, ts: float) -> bytes:
        return json.dumps(
            {"ts": ts, "seq": seq, "activePower": 2.0, "activeEnergyImport": 1.0}
        ).encode()

    def bad(reason: str, topic: str, payload: bytes) -> None:
        messages.append((topic, payload))
        rejects[reason] += 1

    meter = "territory/z/meter/{}/telemetry"
    for n in range(300):
        device, seq = f"m-{n % 7}", n
        messages.append((meter.format(device), valid(device, seq, now - n)))
        good.add((device, seq))
    bad("invalid_json", meter.format("m-0"), b'{"ts": 1, "seq": 1,')
    bad("invalid_json", meter.format("m-0"), b"\x80\x81 not text")
    bad(
        "wrong_type",
        meter.format("m-0"),
        json.dumps({"ts": now, "seq": 1, "activePower": "2", "activeEnergyImport": 1.0}).encode(),
    )
    bad(
        "wrong_type",
        meter.format("m-0"),
        json.dumps({"ts": now, "seq": "1", "activePower": 2, "activeEnergyImport": 1.0}).encode(),
    )
    for literal in ("NaN", "Infinity", "1e999"):
        bad(
            "non_finite",
            meter.format("m-0"),
            f'{{"ts": {now}, "seq": 1, "activePower": {literal}, "activeEnergyImport": 1}}'.encode(),
        )
    bad("oversize", meter.format("m-0"), b'{"pad": "' + b"x" * (1 << 20) + b'"}')
    bad("ts_out_of_range", meter.format("m-0"), valid("m-0", 999, now - 100 * 365 * 86400))
    bad("ts_out_of_range", meter.format("m-0"), valid("m-0", 999, now + 100 * 365 * 86400))
    bad("unknown_kind", "territory/z/teapot/t-1/telemetry", valid("t-1", 1, now))
    bad(
        "device_mismatch",
        meter.format("m-1"),
        json.dumps(
            {"id": "m-2", "ts": now, "seq": 5, "activePower": 1, "activeEnergyImport": 1}
        ).encode(),
    )
    bad("missing_attribute", meter.format("m-1"), json.dumps({"ts": now, "seq": 5}).encode())
    # Duplicates and reordering: re-send some good ones, in shuffled order.
    messages += random.Random(4).sample(messages[:300], 40)
    random.Random(5).shuffle(messages)
    return messages, rejects, good


def test_corpus_of_bad_input_loses_nothing_good(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    messages, rejects, good = corpus(time.time())
    with (
        worker_thread(mosquitto.url, sqlite_store, batch_size=50) as worker,
        publisher(mosquitto.url) as pub,
    ):
        for topic, payload in messages:
            pub.publish(topic, payload, qos=1).wait_for_publish(10)
        assert wait_until(lambda: worker.metrics.received._value.get() == len(messages))
        assert wait_until(lambda: worker.metrics.unacked._value.get() == 0)
        assert worker.health.ok

    stats = sqlite_store.stats()
    assert stats.rejected == dict(rejects)
    assert worker.metrics.rejected_by_reason() == dict(rejects)
    assert worker.metrics.duplicates._value.get() == 40
    stored = {
        (r.device_id, r.seq) for d in range(7) for r in sqlite_store.history(f"m-{d}", 0, 2**62)
    }
    assert stored == good
    letters = sqlite_store.deadletters(limit=1000)
    binary = [letter for letter in letters if letter["encoding"] == "base64"]
    assert len(binary) == 1  # the non-UTF-8 payload is kept, base64-encoded
