"""paho's client with a receive path fit for tens of thousands of messages a second.

Profiled at ingest rates, paho spends most of its time outside our code: three
recv() calls and a select() per packet, an MQTT 5 Properties object built for
every PUBLISH even when it carries none, and a send() for every PUBACK. This
subclass removes those three costs and nothing else: connect, session,
keepalive, subscribe, reconnect and manual acknowledgement stay paho's.
"""

from __future__ import annotations

import ssl
import struct
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt

# One read-ahead holds a few hundred telemetry messages.
_READ_AHEAD = 256 * 1024
_PUBACK = struct.Struct("!BBH")
_PUBACK_COMMAND = 0x40

TelemetryHandler = Callable[[str, bytes, int], None]
"""Receives (topic, payload, message id) of each QoS 1 PUBLISH."""


class ReadAheadSocket:
    """A TCP socket whose recv() serves paho's small reads from one large read.

    `pending()` is the hook paho's loop already uses for TLS: bytes waiting here,
    invisible to select(), make the loop read without waiting.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = b""
        self._position = 0

    def recv(self, size: int) -> bytes:
        if self._position >= len(self._buffer):
            # BlockingIOError when nothing waits, b"" at end of stream: both as paho expects.
            self._buffer = self._sock.recv(max(size, _READ_AHEAD))
            self._position = 0
        start = self._position
        self._position = min(start + size, len(self._buffer))
        return self._buffer[start : self._position]

    def pending(self) -> int:
        return len(self._buffer) - self._position

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class IngestClient(mqtt.Client):
    """A paho client that hands each QoS 1 PUBLISH to `on_telemetry` as (topic, payload,
    mid) and acknowledges many messages in one write."""

    on_telemetry: TelemetryHandler | None = None

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK every message id in one queued packet: one send() for a whole batch."""
        packet = b"".join([_PUBACK.pack(_PUBACK_COMMAND, 2, mid) for mid in mids])
        if packet:
            self._packet_queue(_PUBACK_COMMAND, packet, 0, 1)

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        if isinstance(sock, ssl.SSLSocket) or self._transport != "tcp":
            return sock
        return ReadAheadSocket(sock)

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        """QoS 1 with manual ack and no properties (every telemetry message) takes the
        short path; anything else goes through paho's own."""
        header = self._in_packet["command"]
        handler = self.on_telemetry
        if handler is None or not self._manual_ack or (header & 0x06) != 0x02:
            return super()._handle_publish()
        # paho accumulates the packet in a bytearray; the handler keeps immutable bytes.
        packet = bytes(self._in_packet["packet"])
        end = 2 + int.from_bytes(packet[:2], "big")
        mid = int.from_bytes(packet[end : end + 2], "big")
        start = end + 2
        if self._protocol == mqtt.MQTTv5:
            if packet[start : start + 1] != b"\x00":
                return super()._handle_publish()
            start += 1
        try:
            topic = packet[2:end].decode()
        except UnicodeDecodeError:
            return super()._handle_publish()
        with self._in_callback_mutex:
            handler(topic, packet[start:], mid)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
