"""A real MQTT subscriber for tests: it keeps every message that arrives on its filters.

Plans (on `territory/plans/...`) are also counted as they come, so that a test can wait
for the plan of each tick it runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import paho.mqtt.client as mqtt

from territory import topics
from territory.bus import BrokerAddress, connect, make_client

Message = tuple[str, bytes]


class Listener:
    """Subscribed (acknowledged) on return; `close` when done."""

    def __init__(self, url: str, filters: str | Sequence[str], client_id: str = "") -> None:
        address = BrokerAddress.from_url(url)
        self.client = make_client(address, client_id)
        self._received: list[Message] = []
        self._lock = threading.Lock()
        self._plans = threading.Semaphore(0)
        subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        connect(self.client, address)
        self.client.loop_start()
        wanted = [filters] if isinstance(filters, str) else list(filters)
        self.client.subscribe([(topic_filter, 1) for topic_filter in wanted])
        assert subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._received.append((message.topic, bytes(message.payload)))
        if message.topic.startswith(topics.plan("")):
            self._plans.release()

    def snapshot(self) -> list[Message]:
        """Every message so far, as it arrived."""
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[tuple[str, Any]]:
        """Every message so far, its payload decoded from JSON."""
        return [(topic, json.loads(payload)) for topic, payload in self.snapshot()]

    @property
    def plans(self) -> list[Any]:
        """The plans so far, decoded."""
        return [body for topic, body in self.messages if topic.startswith(topics.plan(""))]

    def next_plan(self, timeout: float = 10.0) -> bool:
        """Whether one more plan than waited for so far arrives within `timeout`."""
        return self._plans.acquire(timeout=timeout)

    def wait_for(self, predicate: Callable[[list[Message]], bool], timeout: float = 20.0) -> bool:
        """Whether the messages meet `predicate` within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return True
            time.sleep(0.02)
        return predicate(self.snapshot())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
