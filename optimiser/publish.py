"""Publishing commands and plans at QoS 1, reconnecting on the next tick when the broker
was away."""

from __future__ import annotations

import functools
import json
import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from territory.bus import BrokerAddress, connect, default_client_id, make_client, on_connack

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker could not be reached or did not acknowledge in time."""


class Publisher:
    """One MQTT connection for the optimiser, made (again) on demand."""

    def __init__(self, address: BrokerAddress, timeout_s: float = 5.0) -> None:
        self.address = address
        # Without a persistent session, uniqueness is what matters: the timer and runs
        # triggered from the console may share a host.
        self.client_id = default_client_id("optimiser", per_process=True)
        self.timeout_s = timeout_s
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._pending: list[mqtt.MQTTMessageInfo] = []

    def ensure_connected(self) -> None:
        if self._client is not None and self._client.is_connected():
            return
        self.close()
        client = make_client(self.address, client_id=self.client_id)
        self._connected.clear()
        client.on_connect = on_connack(
            lambda _client: self._connected.set(),
            functools.partial(log.error, "broker refused the optimiser: %s"),
        )
        try:
            connect(client, self.address)
        except OSError as exc:
            raise BrokerUnavailable(f"cannot reach {self.address.url}: {exc}") from exc
        client.loop_start()
        self._client = client
        if not self._connected.wait(self.timeout_s):
            self.close()
            raise BrokerUnavailable(f"{self.address.url} did not accept the connection")

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue one QoS 1 message; `flush` waits for the broker's acknowledgements."""
        self.ensure_connected()
        assert self._client is not None
        info = self._client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerUnavailable(f"publish on {topic} refused: {mqtt.error_string(info.rc)}")
        self._pending.append(info)

    def flush(self) -> None:
        """Wait until every queued message is acknowledged (PUBACK)."""
        pending, self._pending = self._pending, []
        for info in pending:
            try:
                info.wait_for_publish(self.timeout_s)
            except (RuntimeError, ValueError) as exc:
                raise BrokerUnavailable(f"message not acknowledged: {exc}") from exc
            if not info.is_published():
                raise BrokerUnavailable("the broker did not acknowledge in time")

    def close(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self._pending = []
