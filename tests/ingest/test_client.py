"""The short receive path of IngestClient against a real mosquitto: every message reaches
the handler whole, those it cannot take reach paho's own path, and one batched PUBACK
acknowledges them all (the broker redelivers nothing afterwards)."""

from __future__ import annotations

import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.client import IngestClient
from territory.bus import BrokerAddress, connect, make_client
from tests.ingest.helpers import publisher
from tests.services import Mosquitto

TOPIC = "territory/z1/meter/m-{}/telemetry"


class Inbox:
    """What a client received, by path: (topic, payload, mid) tuples."""

    def __init__(self) -> None:
        self.short: list[tuple[str, bytes, int]] = []
        self.paho: list[tuple[str, bytes, int]] = []

    def on_telemetry(self, topic: str, payload: bytes, mid: int) -> None:
        self.short.append((topic, payload, mid))

    def on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.paho.append((msg.topic, bytes(msg.payload), msg.mid if msg.qos else 0))


def _session(url: str, inbox: Inbox) -> IngestClient:
    address = BrokerAddress.from_url(url)
    client = make_client(
        address, "client-test", persistent=True, manual_ack=True, client_class=IngestClient
    )
    client.on_telemetry = inbox.on_telemetry
    client.on_message = inbox.on_message
    connect(client, address, session_expiry_s=3600, receive_maximum=20000)
    client.subscribe("territory/+/+/+/telemetry", qos=1)
    return client


def _pump(client: mqtt.Client, until: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        client.loop(timeout=0.05)


def _settle(client: mqtt.Client, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.loop(timeout=0.05)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_every_message_arrives_whole_and_one_puback_batch_acknowledges_all(
    mosquitto: Mosquitto, protocol: str
) -> None:
    url = f"{mosquitto.url}?protocol={protocol}"
    inbox = Inbox()
    client = _session(url, inbox)
    _settle(client, 0.5)
    sent = {
        (TOPIC.format(i % 7), b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i % 300))) for i in range(3000)
    }
    # Larger than one read-ahead: it arrives in pieces, through paho's own reads.
    sent.add((TOPIC.format("big"), b"y" * (600 * 1024)))
    with publisher(url) as pub:
        for topic, payload in sorted(sent):
            pub.publish(topic, payload, qos=1).wait_for_publish(10)
        if protocol == "5":
            properties = Properties(PacketTypes.PUBLISH)
            properties.UserProperty = ("source", "test")
            pub.publish(TOPIC.format("p"), b"with-properties", qos=1, properties=properties)
        pub.publish(TOPIC.format("q0"), b"qos-zero", qos=0).wait_for_publish(10)
    expected = len(sent) + (2 if protocol == "5" else 1)
    _pump(client, lambda: len(inbox.short) + len(inbox.paho) >= expected)

    assert {(t, p) for t, p, _ in inbox.short} == sent, "the short path lost or mangled one"
    assert (TOPIC.format("q0"), b"qos-zero", 0) in inbox.paho
    if protocol == "5":
        assert any(p == b"with-properties" for _, p, _ in inbox.paho)
    mids = [mid for _, _, mid in inbox.short + inbox.paho if mid]
    client.ack_many(mids)
    _settle(client, 0.5)
    client.disconnect()

    # Same session again: the broker must have nothing left to redeliver.
    again = Inbox()
    client = _session(url, again)
    _settle(client, 1.5)
    client.disconnect()
    assert again.short == [] and again.paho == []


def test_unacknowledged_messages_come_back_on_the_next_session(mosquitto: Mosquitto) -> None:
    inbox = Inbox()
    client = _session(mosquitto.url, inbox)
    _settle(client, 0.5)
    with publisher(mosquitto.url) as pub:
        for i in range(200):
            pub.publish(TOPIC.format(1), b"%d" % i, qos=1).wait_for_publish(10)
    _pump(client, lambda: len(inbox.short) >= 200)
    client.ack_many(mid for _, _, mid in inbox.short[:150])
    _settle(client, 0.5)
    client.disconnect()

    again = Inbox()
    client = _session(mosquitto.url, again)
    _pump(client, lambda: len(again.short) >= 50, timeout=10)
    client.disconnect()
    assert sorted(p for _, p, _ in again.short) == sorted(p for _, p, _ in inbox.short[150:])
