"""The few MQTT 3.1.1 / 5 packets our bulk paths speak, as bytes.

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP and DISCONNECT:
enough for a client that publishes QoS 1 and receives QoS 0/1 commands (the simulator's
gateway), and for ingest's short receive path on top of paho (varints, PUBACKs). PUBLISH frames
are built from precomputed pieces (fixed header by length, packet id bytes, topic
string by topic) so that one frame costs a single `bytes.join`.
"""

from __future__ import annotations

from dataclasses import dataclass

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14

PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"
PUBLISH_QOS1 = 0x32  # PUBLISH, QoS 1, no DUP, no retain
DUP_FLAG = 0x08
MAX_PACKET_ID = 65535
MAX_REMAINING_LENGTH = 268_435_455
SHORT_LENGTHS = 16384  # remaining lengths that fit in two varint bytes

# MQTT 5 property identifiers -> how their value is encoded (spec 2.2.2.2).
_BYTE, _TWO, _FOUR, _VARINT, _STRING, _PAIR = "b", "2", "4", "v", "s", "p"
_PROPERTY_KINDS = {
    0x01: _BYTE, 0x02: _FOUR, 0x03: _STRING, 0x08: _STRING, 0x09: _STRING, 0x0B: _VARINT,
    0x11: _FOUR, 0x12: _STRING, 0x13: _TWO, 0x15: _STRING, 0x16: _STRING, 0x17: _BYTE,
    0x18: _FOUR, 0x19: _BYTE, 0x1A: _STRING, 0x1C: _STRING, 0x1F: _STRING, 0x21: _TWO,
    0x22: _TWO, 0x23: _TWO, 0x24: _BYTE, 0x25: _BYTE, 0x26: _PAIR, 0x27: _FOUR,
    0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}  # fmt: skip
RECEIVE_MAXIMUM, SERVER_KEEP_ALIVE, MAXIMUM_PACKET_SIZE, MAXIMUM_QOS = 0x21, 0x13, 0x27, 0x24

CONNACK_REFUSALS = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
    0x80: "unspecified error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorised",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x95: "packet too large",
    0x97: "quota exceeded",
}


class ProtocolError(ValueError):
    """The broker sent bytes that are not the MQTT this client expects."""


def varint(value: int) -> bytes:
    """MQTT's variable byte integer (remaining length, property lengths)."""
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise ValueError(f"{value} does not fit an MQTT variable byte integer")
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | 0x80 if value else digit)
        if not value:
            return bytes(out)


def read_varint(data: bytes | memoryview, at: int) -> tuple[int, int] | None:
    """(value, index after it) of the varint at `at`, or None when it is cut short."""
    value, shift = 0, 0
    for index in range(at, min(at + 4, len(data))):
        digit = data[index]
        value |= (digit & 0x7F) << shift
        if digit < 0x80:
            return value, index + 1
        shift += 7
    if len(data) - at >= 4:
        raise ProtocolError("variable byte integer longer than 4 bytes")
    return None


def utf8(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 65535:
        raise ValueError(f"string of {len(raw)} bytes is longer than MQTT allows (65535)")
    return len(raw).to_bytes(2, "big") + raw


def packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + varint(len(body)) + body


def connect_packet(
    client_id: str,
    v5: bool,
    keepalive: int,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """A clean-session CONNECT: the gateway keeps its own unacknowledged window."""
    flags = 0x02 | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    body = utf8("MQTT") + bytes((5 if v5 else 4, flags)) + keepalive.to_bytes(2, "big")
    if v5:
        body += b"\x00"  # no properties: session ends with the connection
    body += utf8(client_id)
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += utf8(password)
    return packet(CONNECT << 4, body)


def subscribe_packet(packet_id: int, filters: tuple[str, ...], v5: bool) -> bytes:
    body = packet_id.to_bytes(2, "big") + (b"\x00" if v5 else b"")
    body += b"".join(utf8(topic_filter) + b"\x01" for topic_filter in filters)  # QoS 1
    return packet((SUBSCRIBE << 4) | 0x02, body)


def puback_packet(packet_id: int) -> bytes:
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def with_dup(frame: bytes) -> bytes:
    """The same PUBLISH marked as a possible redelivery."""
    return bytes((frame[0] | DUP_FLAG,)) + frame[1:]


@dataclass(frozen=True)
class Connack:
    code: int
    receive_maximum: int = MAX_PACKET_ID
    maximum_packet_size: int = MAX_REMAINING_LENGTH + 5
    maximum_qos: int = 2
    server_keepalive: int | None = None


def parse_properties(body: bytes, at: int) -> tuple[dict[int, int | bytes], int]:
    """MQTT 5 properties starting at `at`: {identifier: value} and the index after them."""
    found = read_varint(body, at)
    if found is None:
        raise ProtocolError("properties cut short")
    length, at = found
    end = at + length
    properties: dict[int, int | bytes] = {}
    while at < end:
        identifier = body[at]
        kind = _PROPERTY_KINDS.get(identifier)
        at += 1
        if kind is None:
            raise ProtocolError(f"unknown MQTT 5 property 0x{identifier:02x}")
        if kind in (_BYTE, _TWO, _FOUR):
            size = {_BYTE: 1, _TWO: 2, _FOUR: 4}[kind]
            properties[identifier] = int.from_bytes(body[at : at + size], "big")
            at += size
        elif kind == _VARINT:
            value = read_varint(body, at)
            if value is None:
                raise ProtocolError("property cut short")
            properties[identifier], at = value
        else:
            for _ in range(2 if kind == _PAIR else 1):
                size = int.from_bytes(body[at : at + 2], "big")
                properties[identifier] = bytes(body[at + 2 : at + 2 + size])
                at += 2 + size
    if at != end:
        raise ProtocolError("properties overrun their length")
    return properties, end


def parse_connack(body: bytes, v5: bool) -> Connack:
    if len(body) < 2:
        raise ProtocolError("CONNACK shorter than 2 bytes")
    if not v5 or len(body) == 2:
        return Connack(code=body[1])
    properties, _ = parse_properties(body, 2)

    def number(identifier: int, default: int) -> int:
        value = properties.get(identifier, default)
        return value if isinstance(value, int) else default

    keepalive = properties.get(SERVER_KEEP_ALIVE)
    return Connack(
        code=body[1],
        receive_maximum=number(RECEIVE_MAXIMUM, MAX_PACKET_ID),
        maximum_packet_size=number(MAXIMUM_PACKET_SIZE, MAX_REMAINING_LENGTH + 5),
        maximum_qos=number(MAXIMUM_QOS, 2),
        server_keepalive=keepalive if isinstance(keepalive, int) else None,
    )


def parse_publish(flags: int, body: bytes, v5: bool) -> tuple[str, int | None, bytes]:
    """(topic, packet id when QoS > 0, payload) of an incoming PUBLISH."""
    size = int.from_bytes(body[:2], "big")
    topic = bytes(body[2 : 2 + size]).decode()
    at = 2 + size
    packet_id = None
    if (flags >> 1) & 0x03:
        packet_id = int.from_bytes(body[at : at + 2], "big")
        at += 2
    if v5:
        _, at = parse_properties(body, at)
    return topic, packet_id, bytes(body[at:])


def parse_ack(body: bytes) -> tuple[int, int]:
    """(packet id, first reason code) of a PUBACK or SUBACK; 0 when the code is omitted."""
    if len(body) < 2:
        raise ProtocolError("acknowledgement shorter than 2 bytes")
    return int.from_bytes(body[:2], "big"), body[2] if len(body) > 2 else 0


def success_pubacks(data: bytes) -> tuple[list[int], int] | None:
    """When `data` (starting at a packet boundary) holds nothing but PUBACKs without an
    error code: their packet ids and the bytes they take (a trailing partial one is
    left). None otherwise. Three slice comparisons instead of a parse per packet, for
    the short form (MQTT 3.1.1, MQTT 5 success) or the form with a reason code (as
    mosquitto's MQTT 5 sends 0x10, "no matching subscribers")."""
    if len(data) < 4:
        return None
    size = 4 if data[1] == 2 else 5
    count = len(data) // size
    whole = count * size
    if (
        not count
        or data[0:whole:size] != b"\x40" * count
        or data[1:whole:size] != bytes((size - 2,)) * count
        or (size == 5 and max(data[4:whole:size]) >= 0x80)
        or not _starts_like_a_puback(data[whole:], size)
    ):
        return None
    ids = [
        high << 8 | low for high, low in zip(data[2:whole:size], data[3:whole:size], strict=True)
    ]
    return ids, whole


def _starts_like_a_puback(tail: bytes, size: int) -> bool:
    """The bytes after the PUBACKs are the start of one more of the same form (or none):
    anything else, possibly a whole packet of its own, needs the general parser."""
    return not tail or (tail[0] == 0x40 and (len(tail) < 2 or tail[1] == size - 2))


def split_packets(buffer: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Complete packets in `buffer` as (first byte, body), and the bytes left over."""
    found: list[tuple[int, bytes]] = []
    at = 0
    while len(buffer) - at >= 2:
        length = read_varint(buffer, at + 1)
        if length is None:
            break
        size, start = length
        if start + size > len(buffer):
            break
        found.append((buffer[at], buffer[start : start + size]))
        at = start + size
    return found, buffer[at:]


class PublishEncoder:
    """Builds QoS 1 PUBLISH frames with as little Python work per frame as possible."""

    def __init__(self, v5: bool) -> None:
        self.v5 = v5
        self.topics: dict[str, bytes] = {}
        # Packet id bytes, followed on MQTT 5 by an empty property list.
        tail = b"\x00" if v5 else b""
        self.packet_ids = [i.to_bytes(2, "big") + tail for i in range(MAX_PACKET_ID + 1)]
        self.overhead = 2 + len(tail)
        self.fixed = [bytes((PUBLISH_QOS1,)) + varint(n) for n in range(SHORT_LENGTHS)]

    def topic(self, topic: str) -> bytes:
        encoded = self.topics.get(topic)
        if encoded is None:
            encoded = self.topics[topic] = utf8(topic)
        return encoded

    def frame(self, topic: str, packet_id: int, payload: bytes) -> bytes:
        head = self.topics.get(topic) or self.topic(topic)
        size = len(head) + self.overhead + len(payload)
        fixed = self.fixed[size] if size < SHORT_LENGTHS else bytes((PUBLISH_QOS1,)) + varint(size)
        return b"".join((fixed, head, self.packet_ids[packet_id], payload))
