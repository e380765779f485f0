"""paho's client with a receive path fit for tens of thousands of messages a second.

Profiled at ingest rates, paho spends most of its time outside our code: three
recv() calls, a select() and a dozen dictionary updates per packet, an MQTT 5
Properties object built for every PUBLISH even when it carries none, and a send()
for every PUBACK. This subclass takes the common case, a QoS 1 PUBLISH without
properties already whole in the read-ahead buffer, straight to the handler, and
leaves everything else to paho: connect, session, keepalive, subscribe, other
packets, reconnect and acknowledgement.

To do so it relies on names paho-mqtt does not publish, listed in PAHO_PRIVATE below
and marked `# paho private` where used. paho-mqtt is pinned to the minor version they
were checked against (pyproject.toml), and tests/ingest/test_paho_private.py fails,
naming the missing one, as soon as a paho release renames or drops any of them.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt

from territory import frames

# One read-ahead holds a few thousand telemetry messages.
_READ_AHEAD = 256 * 1024
# PUBLISH at QoS 1, whatever its DUP and RETAIN flags.
_QOS1_PUBLISH_MASK = 0xFF ^ frames.DUP_FLAG ^ 0x01

# Every private name of paho's Client used here: methods overridden or called, with the
# parameters we rely on, then attributes read or written.
PAHO_PRIVATE_METHODS: dict[str, tuple[str, ...]] = {
    "_packet_queue": ("command", "packet", "mid", "qos"),  # called by ack_many
    "_packet_read": (),  # overridden: the short path, then paho's own read
    "_loop_rc_handle": ("rc",),  # called by read_waiting on a read error
    "_create_socket": (),  # overridden: wraps the socket in a ReadAheadSocket
    "_handle_publish": (),  # overridden: a PUBLISH paho read in pieces
}
PAHO_PRIVATE_ATTRIBUTES = (
    "_sock",  # the connected socket (a ReadAheadSocket once ours)
    "_manual_ack",  # the short path only serves manual-ack clients
    "_transport",  # "tcp", "websockets" or "unix": only plain TCP gets the read-ahead
    "_protocol",  # MQTTv5 PUBLISH packets carry a properties length
    "_in_packet",  # the packet being read: its "command" and accumulated "packet"
    "_in_callback_mutex",  # held around handlers, as paho does for on_message
    "_msgtime_mutex",  # guards _last_bytes_received
    "_last_bytes_received",  # what paho's keepalive check reads
)
PAHO_IN_PACKET_KEYS = ("command", "packet")
PAHO_MODULE_NAMES = ("time_func",)  # the clock paho's keepalive compares against

TelemetryHandler = Callable[[str, bytes, int], None]
"""Receives (topic, payload, message id) of each QoS 1 PUBLISH."""

Publish = tuple[str, bytes, int]


def split_publish(packet: bytes, start: int, end: int, v5: bool) -> Publish | None:
    """(topic, payload, mid) of the QoS 1 PUBLISH body packet[start:end]; None when it
    carries MQTT 5 properties or a topic that is not UTF-8 (paho's own path takes those)."""
    topic_end = start + 2 + int.from_bytes(packet[start : start + 2], "big")
    mid = int.from_bytes(packet[topic_end : topic_end + 2], "big")
    payload_start = topic_end + 2
    if v5:
        if packet[payload_start] != 0:
            return None
        payload_start += 1
    try:
        topic = packet[start + 2 : topic_end].decode()
    except UnicodeDecodeError:
        return None
    return topic, packet[payload_start:end], mid


class ReadAheadSocket:
    """A TCP socket whose recv() serves paho's small reads from one large read.

    `pending()` is the hook paho's loop already uses for TLS (paho private: it calls it on
    any socket that has it): bytes waiting here, invisible to select(), make the loop
    read without waiting.
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

    def take_publish(self, v5: bool) -> Publish | None:
        """The next packet if it is a whole QoS 1 PUBLISH the short path can take, else
        None with nothing consumed."""
        buffer, position = self._buffer, self._position
        if position >= len(buffer) or buffer[position] & _QOS1_PUBLISH_MASK != frames.PUBLISH_QOS1:
            return None
        try:
            length_and_start = frames.read_varint(buffer, position + 1)
        except frames.ProtocolError:
            return None  # paho's own read reports the malformed packet
        if length_and_start is None:
            return None
        length, cursor = length_and_start
        end = cursor + length
        if end > len(buffer):
            return None
        publish = split_publish(buffer, cursor, end, v5)
        if publish is not None:
            self._position = end
        return publish

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class IngestClient(mqtt.Client):
    """A paho client that hands each QoS 1 PUBLISH to `on_telemetry` as (topic, payload,
    mid) and acknowledges many messages in one write."""

    on_telemetry: TelemetryHandler | None = None

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK every message id in one queued packet: one send() for a whole batch."""
        packet = b"".join([frames.puback_packet(mid) for mid in mids])
        if packet:
            self._packet_queue(frames.PUBACK << 4, packet, 0, 1)  # paho private

    def read_waiting(self, more: Callable[[], bool]) -> mqtt.MQTTErrorCode:
        """Read packets already received while `more()` holds, without select(): paho's
        loop() reads one packet per select() call, which under load is the cost."""
        while more() and self._sock is not None:  # paho private
            rc = self._packet_read()  # paho private
            if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN:
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
            if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS:
                return self._loop_rc_handle(rc)  # paho private
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def _short_path(self) -> TelemetryHandler | None:
        return self.on_telemetry if self._manual_ack else None  # paho private

    def _create_socket(self) -> Any:  # paho private, overridden
        sock = super()._create_socket()
        if isinstance(sock, ssl.SSLSocket) or self._transport != "tcp":  # paho private
            return sock
        return ReadAheadSocket(sock)

    def _packet_read(self) -> mqtt.MQTTErrorCode:  # paho private, overridden
        handler = self._short_path()
        sock = self._sock  # paho private
        if (
            handler is not None
            and self._in_packet["command"] == 0  # paho private: no packet half-read
            and type(sock) is ReadAheadSocket
        ):
            publish = sock.take_publish(self._protocol == mqtt.MQTTv5)  # paho private
            if publish is not None:
                with self._in_callback_mutex:  # paho private
                    handler(*publish)
                # paho's keepalive reads this: traffic on the short path counts as traffic.
                with self._msgtime_mutex:  # paho private
                    self._last_bytes_received = mqtt.time_func()  # paho private (both)
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._packet_read()

    def _handle_publish(self) -> mqtt.MQTTErrorCode:  # paho private, overridden
        """A PUBLISH that came in pieces: the short path still takes it if it can."""
        header = self._in_packet["command"]  # paho private
        handler = self._short_path()
        if handler is None or header & _QOS1_PUBLISH_MASK != frames.PUBLISH_QOS1:
            return super()._handle_publish()
        # paho accumulates the packet in a bytearray; the handler keeps immutable bytes.
        packet = bytes(self._in_packet["packet"])  # paho private
        v5 = self._protocol == mqtt.MQTTv5  # paho private
        publish = split_publish(packet, 0, len(packet), v5)
        if publish is None:
            return super()._handle_publish()
        with self._in_callback_mutex:  # paho private
            handler(*publish)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
