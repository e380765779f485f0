"""One MQTT connection for the whole twin ("gateway mode").

Every device still publishes on its own topic with its own id in the payload; the
connection is shared, as a field gateway or an LNS bridge would share it. Commands
arrive on the same connection.

The simulator's thread owns the client: paho's network loop runs inside `poll()`, which
the simulator calls whenever it would otherwise sleep, and inside `publish()` every few
messages. No second thread means no lock hand-offs per message, which doubles what one
process can publish.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import paho.mqtt.client as mqtt

from devices.commands import SUBSCRIPTIONS
from territory.bus import BrokerAddress, connect, make_client

log = logging.getLogger(__name__)

# Unacknowledged QoS 1 publishes on the wire at once (lowered to the broker's Receive
# Maximum on MQTT 5). paho scans its in-flight list on every PUBACK, so a larger window
# costs more CPU than it saves in round trips on a local broker.
INFLIGHT = 100
# Publishes queued in paho before `publish` waits for acknowledgements: the backpressure
# that keeps a burst from growing memory without bound.
MAX_PENDING = 20_000
POLL_EVERY = 50  # publishes between two turns of the network loop
RECONNECT_S = (0.5, 10.0)  # first and longest wait between reconnection attempts


class BrokerUnreachable(RuntimeError):
    """The broker refused or did not answer; the message says where and why."""


class MqttGateway:
    """Publishes telemetry (QoS 1) and collects commands for the twin."""

    def __init__(self, url: str, client_id: str, subscribe: bool = True) -> None:
        self.address = BrokerAddress.from_url(url)
        self.client = make_client(self.address, client_id)
        self.client.max_inflight_messages_set(INFLIGHT)
        self.client.max_queued_messages_set(0)
        self.inbox: list[tuple[str, bytes]] = []
        self.connected = False
        self._subscribe = subscribe
        self._since_poll = 0
        self._closing = False
        self._retry_at = 0.0
        self._retry_wait = RECONNECT_S[0]
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> None:
        try:
            connect(self.client, self.address)
        except OSError as exc:
            raise BrokerUnreachable(
                f"cannot reach the broker at {self.address.url}: {exc}"
            ) from exc
        deadline = time.monotonic() + timeout
        while not self.connected and time.monotonic() < deadline:
            if self.client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                break
        if not self.connected:
            raise BrokerUnreachable(
                f"the broker at {self.address.url} did not accept the connection"
            )

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        server_maximum = getattr(properties, "ReceiveMaximum", None)
        if server_maximum:
            client.max_inflight_messages_set(min(INFLIGHT, int(server_maximum)))
        if self._subscribe:
            client.subscribe([(topic, 1) for topic in SUBSCRIPTIONS])
        self.connected = True
        self._retry_wait = RECONNECT_S[0]

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        self.connected = False
        if not self._closing:
            log.warning("disconnected from %s: %s", self.address.url, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.inbox.append((message.topic, bytes(message.payload)))

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 publish (paho resends it after a reconnection if need be)."""
        self.client.publish(topic, payload, qos=1)
        self._since_poll += 1
        if self._since_poll >= POLL_EVERY:
            self._since_poll = 0
            self.poll(0.0)
            while self.pending() >= MAX_PENDING and self.connected:
                self.poll(0.01)

    def poll(self, timeout: float) -> None:
        """Run the network loop for up to `timeout` seconds: send, read acks and commands."""
        if self.connected:
            if self.client.loop(timeout=timeout) == mqtt.MQTT_ERR_SUCCESS:
                return
            self.connected = False
        self._reconnect(timeout)

    def _reconnect(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            time.sleep(min(timeout, self._retry_at - now))
            return
        try:
            self.client.reconnect()
        except OSError as exc:
            log.warning("broker %s unreachable (%s)", self.address.url, exc)
            self._retry_at = now + self._retry_wait
            self._retry_wait = min(RECONNECT_S[1], 2 * self._retry_wait)

    def drain(self) -> list[tuple[str, bytes]]:
        """Commands received since the last call, in arrival order."""
        self.poll(0.0)
        found, self.inbox = self.inbox, []
        return found

    def pending(self) -> int:
        """Publishes not yet acknowledged by the broker (paho has no public accessor)."""
        return len(self.client._out_messages)

    def close(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for the broker to acknowledge what was sent, then disconnect."""
        deadline = time.monotonic() + timeout
        while self.pending() and self.connected and time.monotonic() < deadline:
            self.poll(0.01)
        self._closing = True
        self.client.disconnect()
        self.client.loop(timeout=0.1)
