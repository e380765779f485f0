"""The bridge's MQTT side: readings, dead letters and alerts out; set-points and feeder
readings in, handed to the asyncio loop that owns every charge point.

paho runs its network loop in its own thread and reconnects by itself; subscriptions are
made again on every connection. Publishing is thread-safe in paho, so the asyncio side
publishes directly.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from territory import topics
from territory.bus import BrokerAddress, connect, make_client, on_connack

log = logging.getLogger(__name__)
COMMANDS = f"{topics.ROOT}/+/ev_charger/+/cmd"
FEEDER_READINGS = f"{topics.ROOT}/+/feeder/+/telemetry"
QUEUED_WHILE_AWAY = 100_000  # readings kept while the broker is away, then dropped (counted)

Handler = Callable[[str, bytes | bytearray], None]


class BrokerLink:
    """One MQTT connection for the bridge."""

    def __init__(
        self,
        address: BrokerAddress,
        loop: asyncio.AbstractEventLoop,
        on_command: Handler,
        on_feeder_reading: Handler,
    ) -> None:
        self.address = address
        self.loop = loop
        self.on_command = on_command
        self.on_feeder_reading = on_feeder_reading
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.dropped = 0
        self.client = make_client(address, client_id=f"territory-ocpp-{os.getpid()}")
        self.client.max_queued_messages_set(QUEUED_WHILE_AWAY)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = on_connack(
            self._on_connected, functools.partial(log.error, "broker refused the OCPP bridge: %s")
        )
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.message_callback_add(COMMANDS, self._on_command)
        self.client.message_callback_add(FEEDER_READINGS, self._on_feeder)

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect, run paho's loop in its thread, and wait until subscribed, so that no
        set-point published after start is missed."""
        connect(self.client, self.address)
        self.client.loop_start()
        if not self.subscribed.wait(timeout_s):
            self.stop()
            raise OSError(f"{self.address.url} did not accept the bridge's subscriptions")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """QoS 1; kept in paho's queue while the broker is away."""
        body = json.dumps(payload, separators=(",", ":"))
        # Never retained: the secured broker refuses retained messages (docs/security.md).
        info = self.client.publish(topic, body, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self.dropped += 1

    def _on_connected(self, client: mqtt.Client) -> None:
        client.subscribe([(COMMANDS, 1), (FEEDER_READINGS, 1)])
        self.connected.set()
        log.info("connected to %s", self.address.url)

    def _on_subscribe(self, client: mqtt.Client, *args: object) -> None:
        self.subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, *args: object) -> None:
        self.connected.clear()
        log.warning("lost the broker %s; paho reconnects", self.address.url)

    def _on_command(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.loop.call_soon_threadsafe(self.on_command, message.topic, message.payload)

    def _on_feeder(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.loop.call_soon_threadsafe(self.on_feeder_reading, message.topic, message.payload)
