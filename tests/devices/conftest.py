"""Shared pieces for the devices tests: a tiny scenario and a telemetry collector."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from devices.scenario import Scenario
from territory import topics
from territory.bus import BrokerAddress, connect, make_client
from tests.services import Mosquitto

START = 1_790_000_000.0  # a fixed simulated start for deterministic runs


def tiny_document(**overrides: Any) -> dict[str, Any]:
    """A two-zone territory with one group of every kind and short periods."""
    document: dict[str, Any] = {
        "name": "tiny",
        "step_s": 1.0,
        "warmup_h": 1.0,
        "periods": {
            "meter": 2.0,
            "pv": 2.0,
            "feeder": 1.0,
            "ev_charger": 0.5,
            "bike_station": 2.0,
            "traffic": 2.0,
            "transit_counter": 2.0,
            "air": 3.0,
        },
        "zones": [
            {"id": "a", "name": "A", "x": 0, "y": 0, "profile": "residential"},
            {"id": "b", "name": "B", "x": 2, "y": 1, "profile": "commercial"},
        ],
        "feeders": [{"id": "f-a", "zone": "a", "limit_kw": 50}],
        "meters": [
            {"zone": "a", "feeder": "f-a", "count": 3, "profile": "residential", "mean_kw": 1.5}
        ],
        "pv": [{"zone": "a", "feeder": "f-a", "count": 1, "peak_kw": 6}],
        "ev_chargers": [
            {
                "zone": "a",
                "feeder": "f-a",
                "count": 2,
                "max_kw": 22,
                "use": "public",
                "sessions_per_day": 0.01,
                "mean_energy_kwh": 80,
                "initial_occupancy": 1.0,
            }
        ],
        "bike_stations": [
            {"zone": "a", "count": 2, "slots": 10, "bikes": 5, "trips_per_day": 200},
            {"zone": "b", "count": 2, "slots": 10, "bikes": 5, "trips_per_day": 200},
        ],
        "traffic": [{"zone": "b", "count": 1, "peak_vph": 800, "corridor": "c1"}],
        "transit_counters": [{"zone": "b", "corridor": "c1", "count": 1}],
        "air": [{"zone": "b", "count": 1}],
        "vans": [{"id": "van-1", "zone": "b", "capacity": 10}],
        "corridors": [
            {
                "id": "c1",
                "name": "C1",
                "zones": ["a", "b"],
                "capacity_per_slot": 50,
                "daily_trips": 3000,
            }
        ],
    }
    document.update(overrides)
    return document


@pytest.fixture
def tiny() -> Scenario:
    return Scenario.model_validate(tiny_document())


class ListSink:
    """Keeps every published message, in order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, payload))


class Collector:
    """A real MQTT subscriber keeping what arrives on a topic filter."""

    def __init__(self, broker: Mosquitto, topic_filter: str = topics.TELEMETRY_FILTER) -> None:
        address = BrokerAddress.from_url(broker.url)
        self.client = make_client(address, "")
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        connect(self.client, address)
        self.client.loop_start()
        self.client.subscribe(topic_filter, qos=1)
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def wait_for(
        self, predicate: Callable[[list[tuple[str, bytes]]], bool], timeout: float = 20.0
    ) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return True
            time.sleep(0.02)
        return predicate(self.snapshot())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def collector(mosquitto: Mosquitto) -> Iterator[Collector]:
    found = Collector(mosquitto)
    yield found
    found.close()
