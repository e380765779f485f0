"""The CONNACK and SUBACK callbacks every service shares (`territory.bus.on_connack`,
`on_suback`), against a real mosquitto: a connection it refuses is told with its reason,
one it accepts hands the client on, and a granted SUBSCRIBE is told as granted.
(mosquitto 2.0 grants every well-formed subscription and applies its ACL to delivery, so
no SUBACK of it carries a refusal to test `on_suback`'s other branch against.)"""

from __future__ import annotations

import queue
import subprocess
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from territory.bus import on_connack, on_suback
from tests.services import ConfiguredMosquitto, find_binary, free_port

Said = tuple[str, object]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    """A mosquitto with one account, `reader`, that may read `granted/#`."""
    passwords, acl = tmp_path / "passwords", tmp_path / "acl"
    subprocess.run(
        [find_binary("mosquitto_passwd"), "-b", "-c", str(passwords), "reader", "secret-word"],
        check=True,
        capture_output=True,
    )
    acl.write_text("user reader\ntopic read granted/#\n")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        # Started as root, mosquitto would drop to its own user, who cannot read tmp_path.
        f"user root\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwords}\nacl_file {acl}\npersistence false\n"
    )
    server = ConfiguredMosquitto(conf, [port], tmp_path / "mosquitto.log")
    server.start()
    try:
        yield port
    finally:
        server.stop()


def client(port: int, said: queue.Queue[Said], password: str | None) -> mqtt.Client:
    made = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    if password is not None:
        made.username_pw_set("reader", password)
    made.on_connect = on_connack(
        lambda c: said.put(("accepted", c)), lambda reason: said.put(("refused", reason))
    )
    made.on_subscribe = on_suback(
        lambda: said.put(("granted", None)), lambda codes: said.put(("denied", codes))
    )
    made.connect("127.0.0.1", port)
    made.loop_start()
    return made


def test_a_refused_connection_is_told_with_its_reason(broker: int) -> None:
    said: queue.Queue[Said] = queue.Queue()
    made = client(broker, said, password="not-the-word")
    try:
        what, reason = said.get(timeout=10)
    finally:
        made.loop_stop()
    assert what == "refused"
    assert isinstance(reason, ReasonCode) and reason.is_failure
    assert reason.getName() in ("Bad user name or password", "Not authorized")


def test_an_accepted_connection_then_a_granted_subscription(broker: int) -> None:
    said: queue.Queue[Said] = queue.Queue()
    made = client(broker, said, password="secret-word")
    try:
        assert said.get(timeout=10) == ("accepted", made)
        made.subscribe([("granted/topic", 1), ("granted/other/#", 0)])
        assert said.get(timeout=10) == ("granted", None)
    finally:
        made.disconnect()
        made.loop_stop()
    assert said.empty()
