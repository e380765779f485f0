"""MQTT framing: the spec's variable byte integers, PUBLISH frames that parse back to
what was published, and a byte stream split into packets whatever its chunking."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory import frames

# MQTT 3.1.1 / 5 spec, "Remaining Length" table: the edges of each width.
SPEC_VARINTS = [
    (0, "00"),
    (127, "7f"),
    (128, "8001"),
    (16_383, "ff7f"),
    (16_384, "808001"),
    (2_097_151, "ffff7f"),
    (2_097_152, "80808001"),
    (268_435_455, "ffffff7f"),
]


@pytest.mark.parametrize(("value", "encoded"), SPEC_VARINTS)
def test_variable_byte_integers_match_the_spec(value: int, encoded: str) -> None:
    assert frames.varint(value).hex() == encoded
    assert frames.read_varint(bytes.fromhex(encoded), 0) == (value, len(encoded) // 2)


def test_out_of_range_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="variable byte integer"):
        frames.varint(268_435_456)
    with pytest.raises(frames.ProtocolError):
        frames.read_varint(b"\xff\xff\xff\xff\x01", 0)


@settings(deadline=None)  # a shared machine: no per-example time limit
@given(
    v5=st.booleans(),
    topic=st.text(min_size=1, max_size=60),
    packet_id=st.integers(1, 65535),
    payload=st.binary(max_size=20_000),
)
def test_a_publish_frame_parses_back(v5: bool, topic: str, packet_id: int, payload: bytes) -> None:
    frame = frames.PublishEncoder(v5).frame(topic, packet_id, payload)
    [(first, body)], rest = frames.split_packets(frame)
    assert rest == b"" and first == frames.PUBLISH_QOS1
    assert frames.parse_publish(first, body, v5) == (topic, packet_id, payload)
    assert frames.with_dup(frame)[0] == frames.PUBLISH_QOS1 | frames.DUP_FLAG


@settings(deadline=None)
@given(
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=20),
    cuts=st.lists(st.integers(0, 7000), max_size=10),
)
def test_a_stream_splits_into_its_packets_however_it_is_chunked(
    sizes: list[int], cuts: list[int]
) -> None:
    packets = [
        frames.packet(0x40 + i % 16, bytes([i % 256]) * size) for i, size in enumerate(sizes)
    ]
    stream = b"".join(packets)
    bounds = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    found: list[tuple[int, bytes]] = []
    rest = b""
    for start, end in itertools.pairwise(bounds):
        got, rest = frames.split_packets(rest + stream[start:end])
        found += got
    assert rest == b""
    assert [frames.packet(first, body) for first, body in found] == packets


def test_a_connack_gives_the_brokers_limits() -> None:
    # An MQTT 5 CONNACK as mosquitto sends it: topic alias maximum 10, maximum packet
    # size 2 MiB, and here a receive maximum of 100.
    body = bytes.fromhex("0000") + frames.varint(11) + bytes.fromhex("22000a2700200000210064")
    connack = frames.parse_connack(body, v5=True)
    assert (connack.code, connack.receive_maximum, connack.maximum_packet_size) == (
        0,
        100,
        2 * 1024 * 1024,
    )
    assert frames.parse_connack(bytes.fromhex("0005"), v5=False).code == 5


ACK_FORMS = st.sampled_from(["short", "reason_ok", "reason_error", "properties", "other"])


def ack(packet_id: int, form: str) -> bytes:
    ident = packet_id.to_bytes(2, "big")
    return {
        "short": b"\x40\x02" + ident,
        "reason_ok": b"\x40\x03" + ident + b"\x10",
        "reason_error": b"\x40\x03" + ident + b"\x97",
        "properties": b"\x40\x04" + ident + b"\x00\x00",
        "other": b"\xd0\x00",  # a PINGRESP
    }[form]


@settings(max_examples=500, deadline=None)
@given(
    acks=st.lists(st.tuples(st.integers(1, 65535), ACK_FORMS), min_size=1, max_size=40),
    cut=st.integers(0, 4),
)
def test_the_puback_fast_path_agrees_with_the_parser(acks: list[tuple[int, str]], cut: int) -> None:
    data = b"".join(ack(packet_id, form) for packet_id, form in acks)
    data = data[: len(data) - cut] if cut < len(data) else data
    fast = frames.success_pubacks(data)
    packets, rest = frames.split_packets(data)
    if fast is not None:  # when taken, the fast path reads exactly what the parser reads
        ids, used = fast
        assert all(first == 0x40 for first, _ in packets)
        parsed = [frames.parse_ack(body) for _, body in packets]
        assert all(reason < 0x80 for _, reason in parsed)
        assert ids == [packet_id for packet_id, _ in parsed]
        assert data[used:] == rest
    forms = {form for _, form in acks}
    if cut == 0 and forms in ({"short"}, {"reason_ok"}):
        assert fast is not None, "a plain run of success PUBACKs takes the fast path"
