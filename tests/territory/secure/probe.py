"""A principal's MQTT 5 connection that records what it receives, and how it matched."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from territory.bus import BrokerAddress, connect, make_client
from tests.ingest.helpers import wait_until

ANSWER_S = 10.0  # bound on waiting for the broker's answer; never the thing asserted


@dataclass(frozen=True)
class Received:
    """One message as it arrived: topic, payload, and the ids of the subscriptions it
    was delivered for."""

    topic: str
    payload: str
    subscriptions: tuple[int, ...]


class Probe:
    """One client of one principal."""

    def __init__(self, address: BrokerAddress, client_id: str = "", *, persistent: bool = False):
        self.address = address
        self.client = make_client(address, client_id, persistent=persistent)
        self.outcome: str | None = None
        self.answered = threading.Event()
        self.disconnected = threading.Event()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._acked: set[int] = set()
        self._subacked = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def open(self, session_expiry_s: int = 0) -> str:
        """Connect and say how it went: `accepted`, `refused: ...`, `closed: ...` or
        `failed: ...` (the TLS handshake or the socket failed)."""
        try:
            connect(self.client, self.address, session_expiry_s=session_expiry_s)
        except (OSError, ssl.SSLError) as exc:
            return f"failed: {exc}"
        self.client.loop_start()
        self.answered.wait(ANSWER_S)
        outcome = self.outcome or "no answer"
        if outcome != "accepted":
            self.close()
        return outcome

    def subscribe(self, filters: list[str]) -> None:
        """Subscribe to each filter with its own subscription id (its index + 1), and
        wait for every SUBACK."""
        mids = []
        for index, topic_filter in enumerate(filters, start=1):
            properties = Properties(PacketTypes.SUBSCRIBE)
            properties.SubscriptionIdentifier = index
            _, mid = self.client.subscribe(topic_filter, qos=1, properties=properties)
            mids.append(mid)
        with self._subacked:
            if not self._subacked.wait_for(lambda: self._acked.issuperset(mids), ANSWER_S):
                raise TimeoutError("no SUBACK")

    def publish(self, topic: str, payload: str) -> None:
        """Publish at QoS 1 and wait for the PUBACK (a denied publish is acknowledged too)."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(ANSWER_S)
        if not info.is_published():
            raise TimeoutError(f"no PUBACK for {topic}")

    def publish_retained(self, topic: str, payload: str) -> str:
        """Publish with the retain flag: `acknowledged`, or `disconnected` by the broker."""
        info = self.client.publish(topic, payload, qos=1, retain=True)
        wait_until(lambda: info.is_published() or self.disconnected.is_set(), ANSWER_S)
        return "disconnected" if self.disconnected.is_set() else "acknowledged"

    def wait_for(self, payload: str) -> bool:
        """Wait (bounded) until a message with this payload has arrived."""
        return wait_until(lambda: any(r.payload == payload for r in self.messages()), ANSWER_S)

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        failed = getattr(reason, "is_failure", False)
        self.outcome = f"refused: {reason}" if failed else "accepted"
        self.answered.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        self.disconnected.set()
        if not self.answered.is_set():
            self.outcome = f"closed: {reason}"
            self.answered.set()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        ids = getattr(message.properties, "SubscriptionIdentifier", [])
        received = Received(message.topic, message.payload.decode(), tuple(ids))
        with self._lock:
            self.received.append(received)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: object, mid: int, codes: object, props: object
    ) -> None:
        with self._subacked:
            self._acked.add(mid)
            self._subacked.notify_all()
