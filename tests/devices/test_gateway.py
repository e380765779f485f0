"""The batched gateway against a real mosquitto: a burst arrives whole, every QoS 1
publish is acknowledged, a cut connection sends its unacknowledged window again (DUP),
an outage keeps the newest publishes within a bound, and commands still arrive in the
middle of a burst."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.gateway import BrokerUnreachable, MqttGateway
from territory import frames, topics
from territory.bus import BrokerAddress, connect, make_client
from tests.devices.proxy import CuttingProxy
from tests.mqtt_listener import Listener
from tests.services import Mosquitto, free_port

DEVICES = 300


def burst(count: int) -> list[tuple[str, bytes]]:
    """`count` telemetry messages spread over DEVICES devices, each payload unique."""
    messages = []
    for seq in range(count):
        device = f"z{seq % 7}-met-{seq % DEVICES:04d}"
        topic = topics.telemetry(f"z{seq % 7}", "meter", device)
        payload = json.dumps({"ts": 1_790_000_000 + seq, "seq": seq, "id": device})
        messages.append((topic, payload.encode()))
    return messages


def publish_all(gateway: MqttGateway, messages: list[tuple[str, bytes]]) -> int:
    """Publish everything, then close (which waits for the acknowledgements); returns the
    most publishes that were ever unacknowledged at once."""
    most = 0
    for topic, payload in messages:
        gateway.publish(topic, payload)
        most = max(most, gateway.pending())
    gateway.close(timeout=30)
    return most


@pytest.mark.parametrize(("protocol", "window"), [("5", 64), ("3.1.1", 20_000)])
def test_a_burst_arrives_whole_and_every_publish_is_acknowledged(
    mosquitto: Mosquitto, collector: Listener, protocol: str, window: int
) -> None:
    messages = burst(6000)
    gateway = MqttGateway(f"{mosquitto.url}?protocol={protocol}", "burst", window=window)
    gateway.start()
    most_in_flight = publish_all(gateway, messages)
    assert (gateway.acked, gateway.refused, gateway.pending()) == (len(messages), 0, 0)
    assert most_in_flight <= window, "the in-flight window is a bound"
    assert collector.wait_for(lambda got: len(got) >= len(messages))
    time.sleep(0.2)  # anything more than was sent would be a duplicate
    assert Counter(collector.snapshot()) == Counter(messages)


def test_acknowledgements_without_subscribers_are_counted(mosquitto: Mosquitto) -> None:
    # With nobody subscribed, mosquitto's MQTT 5 PUBACK carries reason 0x10 (no matching
    # subscribers), a success: a longer acknowledgement than the usual one.
    messages = burst(3000)
    gateway = MqttGateway(mosquitto.url, "lonely", window=500)
    gateway.start()
    publish_all(gateway, messages)
    assert (gateway.acked, gateway.refused, gateway.pending()) == (len(messages), 0, 0)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_a_cut_connection_sends_its_unacknowledged_window_again(
    mosquitto: Mosquitto, collector: Listener, protocol: str
) -> None:
    messages = burst(8000)
    proxy = CuttingProxy(mosquitto.port, cut_after=150_000)  # ~900 messages in, mid-frame
    try:
        gateway = MqttGateway(proxy.url(protocol), "cut", window=2000)
        gateway.start()
        publish_all(gateway, messages)
    finally:
        proxy.close()
    assert len(proxy.sent) == 2, "one cut, one reconnection"
    assert gateway.resent > 0
    assert (gateway.acked, gateway.pending()) == (len(messages), 0)
    assert collector.wait_for(lambda got: set(got) >= set(messages))
    assert set(collector.snapshot()) == set(messages), "nothing lost, nothing invented"

    # The second connection opens with the window sent again, every frame marked DUP.
    packets, _ = frames.split_packets(bytes(proxy.sent[1]))
    publishes = [first for first, _ in packets if first >> 4 == frames.PUBLISH]
    assert all(first & frames.DUP_FLAG for first in publishes[: gateway.resent])
    assert not any(first & frames.DUP_FLAG for first in publishes[gateway.resent :])


def test_an_outage_keeps_the_window_and_the_newest_publishes_within_the_bound(
    mosquitto: Mosquitto, collector: Listener
) -> None:
    messages = burst(1000)
    proxy = CuttingProxy(mosquitto.port, cut_after=1 << 40)
    gateway = MqttGateway(proxy.url("5"), "outage", window=100, backlog_bytes=20_000)
    gateway.start()
    proxy.close()  # the broker is gone: nothing is listening on that port any more
    for topic, payload in messages:
        gateway.publish(topic, payload)
    kept = len(messages) - 100 - gateway.dropped
    assert gateway.dropped > 0
    newest = [len(payload) for _, payload in messages[len(messages) - kept - 1 :]]
    assert sum(newest[1:]) <= 20_000 < sum(newest), "as many of the newest as the bound holds"
    assert gateway.pending() == 100 + kept

    back = CuttingProxy(mosquitto.port, cut_after=1 << 40, port=proxy.port)
    try:
        gateway.close(timeout=30)
    finally:
        back.close()
    expected = set(messages[:100]) | set(messages[len(messages) - kept :])
    assert (gateway.acked, gateway.pending()) == (len(expected), 0)
    assert collector.wait_for(lambda got: set(got) >= expected)
    assert set(collector.snapshot()) == expected, "the dropped ones never went out"


def test_a_command_arrives_in_the_middle_of_a_burst(mosquitto: Mosquitto) -> None:
    gateway = MqttGateway(mosquitto.url, "listening")
    gateway.start()
    address = BrokerAddress.from_url(mosquitto.url)
    operator = make_client(address, "operator")
    connect(operator, address)
    operator.loop_start()
    command_topic = topics.command("z1", "ev_charger", "z1-evc-001")
    command = b'{"ts": 1, "setpoint": 3.0, "valid_until": 2, "plan": "p"}'
    received: list[tuple[str, bytes]] = []
    try:
        for number, (topic, payload) in enumerate(burst(20_000)):
            gateway.publish(topic, payload)
            if number == 5000:
                operator.publish(command_topic, command, qos=1).wait_for_publish(10)
            if number % 1000 == 0:
                received += gateway.drain()
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            received += gateway.drain()
            gateway.poll(0.05)
    finally:
        operator.disconnect()
        operator.loop_stop()
        gateway.close()
    assert received == [(command_topic, command)]


def test_an_absent_broker_is_named_in_the_error() -> None:
    url = f"mqtt://127.0.0.1:{free_port()}?protocol=5"
    gateway = MqttGateway(url, "nobody")
    with pytest.raises(BrokerUnreachable, match=r"cannot reach the broker at mqtt://127\.0\.0\.1"):
        gateway.start(timeout=2)


@settings(max_examples=60, deadline=None)
@given(
    topic=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80),
    payload=st.binary(max_size=200) | st.binary(min_size=16_300, max_size=16_500),
    v5=st.booleans(),
)
def test_the_burst_path_builds_the_encoder_s_frames(topic: str, payload: bytes, v5: bool) -> None:
    # The gateway inlines `PublishEncoder.frame` on its hot path (a method call per publish
    # is measurable in a burst); the copy must build byte for byte the same frames,
    # on both sides of the one-byte length boundary. No broker: nothing is flushed.
    gateway = MqttGateway(f"mqtt://127.0.0.1:1?protocol={'5' if v5 else '3.1.1'}", "c", batch=10)
    reference = frames.PublishEncoder(v5)
    for _ in range(3):
        gateway.publish(topic, payload)
    for packet_id, frame in gateway._inflight.items():
        assert frame == reference.frame(topic, packet_id, payload)
