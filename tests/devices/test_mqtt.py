"""The simulator against a real mosquitto: what arrives decodes, faults are named by
ingest's decoder, a seed repeats its stream, and chargers obey set-points sent to them."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from devices.clock import VirtualClock
from devices.live import LiveRun
from devices.scenario import Scenario
from territory import topics
from territory.bus import BrokerAddress, connect, make_client
from territory.decode import decode
from tests.mqtt_listener import Listener
from tests.services import Mosquitto


def _virtual_run(tiny: Scenario, url: str, start: float, seed: int, faults: float) -> LiveRun:
    run = LiveRun(tiny, url, seed=seed, faults=faults, duration_s=60, clock=VirtualClock(start))
    run.connect_and_run()
    return run


def test_a_seed_repeats_its_stream_and_faults_are_named(
    tiny: Scenario, mosquitto: Mosquitto, collector: Listener
) -> None:
    start = time.time()
    first = _virtual_run(tiny, mosquitto.url, start, seed=11, faults=0.25)
    sent = sum(first.twin.published.values())
    assert collector.wait_for(lambda got: len(got) >= sent)
    second = _virtual_run(tiny, mosquitto.url, start, seed=11, faults=0.25)
    assert collector.wait_for(lambda got: len(got) >= 2 * sent)
    received = collector.snapshot()
    assert len(received) == 2 * sent
    assert received[:sent] == received[sent:], "the same seed gives the same stream"
    assert first.twin.faults.injected == second.twin.faults.injected

    outcomes: Counter[str] = Counter()
    seen: set[tuple[str, bytes]] = set()
    kinds: set[str] = set()
    for topic, payload in received[:sent]:
        if (topic, payload) in seen:
            outcomes["duplicate"] += 1
            continue
        seen.add((topic, payload))
        decoded = decode(topic, payload)
        if decoded.rejection is not None:
            outcomes[decoded.rejection.reason.value] += 1
        else:
            kinds.add(decoded.readings[0].kind)
    assert outcomes == first.twin.faults.expected_outcomes()
    assert len(kinds) == 9, "every kind got through"


def _publish(url: str, topic: str, document: dict[str, object]) -> None:
    address = BrokerAddress.from_url(url)
    client = make_client(address, "")
    connect(client, address)
    client.loop_start()
    client.publish(topic, json.dumps(document), qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def test_a_charger_obeys_a_setpoint_sent_over_mqtt_then_reverts(
    tiny: Scenario, mosquitto: Mosquitto, collector: Listener
) -> None:
    run = LiveRun(tiny, mosquitto.url, seed=2, duration_s=60)
    run.connect()
    worker = threading.Thread(target=run.run)
    worker.start()
    try:
        charger = "a-evc-001"
        topic = topics.telemetry("a", "ev_charger", charger)

        def powers() -> list[tuple[float, float]]:
            return [
                (json.loads(p)["ts"], json.loads(p)["powerConsumption"])
                for t, p in collector.snapshot()
                if t == topic
            ]

        assert collector.wait_for(lambda _: any(p == 22.0 for _, p in powers()))
        sent = time.time()
        valid_until = sent + 3.0
        command = {"ts": sent, "setpoint": 4.0, "valid_until": valid_until, "plan": "test"}
        _publish(mosquitto.url, topics.command("a", "ev_charger", charger), command)
        assert collector.wait_for(lambda _: any(ts > sent and p <= 4.0 for ts, p in powers()))
        obeyed_at = min(ts for ts, p in powers() if ts > sent and p <= 4.0)
        during = [p for ts, p in powers() if obeyed_at <= ts < valid_until]
        assert during and max(during) <= 4.0, "no reading above the set-point while it holds"

        reverted_after = valid_until + tiny.step_s
        assert collector.wait_for(lambda _: any(ts > reverted_after for ts, _ in powers()))
        after = [p for ts, p in powers() if ts > reverted_after]
        assert after and all(p == 22.0 for p in after), "uncontrolled again after valid_until"

        route = {"ts": time.time(), "plan": "test", "stops": [{"station": "a-bik-001", "load": 2}]}
        _publish(mosquitto.url, topics.command("b", "van", "van-1"), route)
        deadline = time.monotonic() + 10
        while not run.twin.commands["VanRoute"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert run.twin.commands == Counter({"ChargerSetpoint": 1, "VanRoute": 1})
    finally:
        run.stop.set()
        worker.join(10)
    assert not worker.is_alive()
