"""Uplinks from a network server's broker republished as readings on ours.

Subscribed with a persistent session and manual acknowledgement: an uplink is
acknowledged to the network server's broker only once its reading (or its dead letter)
is acknowledged by ours, so a bridge that stops loses nothing the broker still holds.
The Things Stack's broker serves QoS 0 only; there, what arrives while the bridge is down
is the network server's to keep (its storage integration).
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bridges.lorawan.formats import TOPIC_FILTERS, Format, UplinkError, parse
from bridges.lorawan.mapping import Mapper
from bridges.publish import Publisher, redact
from territory import documents
from territory.bus import on_connack, on_suback

log = logging.getLogger(__name__)

SOURCE = "lorawan"


class SourceCredentials(BaseModel):
    """`--source-auth FILE`: how the bridge logs in to the network server's broker."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(description="User name (The Things Stack: {application}@{tenant}).")
    password: SecretStr = Field(description="Password or API key.")


class SourceBroker(BaseModel):
    """The network server's broker, from `mqtt(s)://host:port`."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(description="Host name or address.")
    port: int = Field(description="TCP port.")
    tls: bool = Field(description="mqtts: TLS with the system's certificate authorities.")

    @classmethod
    def from_url(cls, url: str) -> SourceBroker:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"--source must look like mqtt(s)://host:port, not {redact(url)!r}")
        if parts.username or parts.password:
            raise ValueError(
                "put the network server's credentials in --source-auth FILE, not the URL"
            )
        tls = parts.scheme == "mqtts"
        return cls(host=parts.hostname, port=parts.port or (8883 if tls else 1883), tls=tls)


def load_credentials(path: Path) -> SourceCredentials:
    return documents.load(SourceCredentials, path, "network server credentials")


class LorawanBridge:
    """One network server's uplinks into readings of inventory devices."""

    def __init__(
        self,
        fmt: Format,
        source: SourceBroker,
        mapper: Mapper,
        publisher: Publisher,
        *,
        credentials: SourceCredentials | None = None,
        client_id: str = "",
    ) -> None:
        self.fmt = fmt
        self.source = source
        self.mapper = mapper
        self.publisher = publisher
        self.subscribed = threading.Event()
        # MQTT 3.1.1: the one version both network servers' brokers speak.
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"territory-lorawan-{fmt}",
            protocol=mqtt.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
        if credentials is not None:
            self._client.username_pw_set(
                credentials.username, credentials.password.get_secret_value()
            )
        if source.tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = on_connack(
            self._on_connected,
            functools.partial(log.warning, "network server broker refused us: %s"),
        )
        self._client.on_message = self._on_message
        self._client.on_subscribe = on_suback(
            self._on_subscribed,
            functools.partial(
                log.error, "the network server's broker refused %s: %s", TOPIC_FILTERS[fmt]
            ),
        )

    def start(self) -> None:
        self._client.connect(self.source.host, self.source.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def handle(self, topic: str, payload: bytes) -> bool:
        """Republish one uplink as a reading, or dead-letter it. True when published."""
        try:
            uplink = parse(self.fmt, payload)
            device, attributes = self.mapper.map(uplink)
        except UplinkError as exc:
            self.publisher.reject(exc.reason, str(exc), topic, payload)
            return False
        reading = {"ts": uplink.time_s, "seq": uplink.f_cnt, **attributes}
        return self.publisher.reading(
            device.zone, device.kind, device.id, reading, origin=topic, original=payload
        )

    def _on_connected(self, client: mqtt.Client) -> None:
        client.subscribe(TOPIC_FILTERS[self.fmt], qos=1)

    def _on_subscribed(self) -> None:
        topic_filter = TOPIC_FILTERS[self.fmt]
        log.info("subscribed to %s on %s:%d", topic_filter, self.source.host, self.source.port)
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self.handle(message.topic, bytes(message.payload))
        # Acknowledge upstream only once our broker holds the reading or its dead letter.
        if self.publisher.flush() and message.qos > 0:
            client.ack(message.mid, message.qos)
