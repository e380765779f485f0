"""What ingest's receive path takes from paho-mqtt beyond its public API, checked: every
private name still there with the parameters we use (a paho release that renames one
fails here, by name, rather than in production), and keepalive still working through
the short path against a real mosquitto."""

from __future__ import annotations

import inspect
import json
import threading
import time
from importlib.metadata import version

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.client import (
    PAHO_IN_PACKET_KEYS,
    PAHO_MODULE_NAMES,
    PAHO_PRIVATE_ATTRIBUTES,
    PAHO_PRIVATE_METHODS,
    IngestClient,
)
from ingest.worker import IngestWorker
from territory.bus import BrokerAddress
from territory.settings import IngestSettings
from territory.store.sqlite import SqliteStore
from tests.ingest.helpers import publisher, wait_until
from tests.services import Mosquitto

PAHO = f"paho-mqtt {version('paho-mqtt')}"


def _client() -> mqtt.Client:
    return mqtt.Client(CallbackAPIVersion.VERSION2, client_id="private-names")


@pytest.mark.parametrize(("name", "parameters"), PAHO_PRIVATE_METHODS.items())
def test_every_private_method_we_use_is_there_with_its_parameters(
    name: str, parameters: tuple[str, ...]
) -> None:
    method = getattr(mqtt.Client, name, None)
    assert callable(method), f"{PAHO} has no Client.{name}: ingest/client.py relies on it"
    found = list(inspect.signature(method).parameters)[1:]  # without self
    assert found[: len(parameters)] == list(parameters), (
        f"{PAHO}: Client.{name}{tuple(found)} no longer takes {parameters} first"
    )
    assert name in vars(mqtt.Client), f"{PAHO}: Client.{name} is no longer paho's own"


@pytest.mark.parametrize("name", PAHO_PRIVATE_ATTRIBUTES)
def test_every_private_attribute_we_use_is_set_by_paho(name: str) -> None:
    assert hasattr(_client(), name), f"{PAHO} no longer sets Client.{name}"


def test_the_packet_being_read_still_has_the_keys_we_read() -> None:
    in_packet = _client()._in_packet
    for key in PAHO_IN_PACKET_KEYS:
        assert key in in_packet, f"{PAHO}: Client._in_packet has no {key!r}"
    assert isinstance(in_packet["packet"], bytearray)


def test_the_module_names_we_use_are_there() -> None:
    for name in PAHO_MODULE_NAMES:
        assert callable(getattr(mqtt, name, None)), f"{PAHO} has no paho.mqtt.client.{name}"


def test_paho_still_calls_the_hooks_our_socket_and_short_path_feed() -> None:
    """Two behaviours, not names: the loop asks a socket for `pending()` bytes (how the
    read-ahead buffer is noticed), and keepalive reads `_last_bytes_received` (which the
    short path updates)."""
    assert ".pending()" in inspect.getsource(mqtt.Client._loop), (
        f"{PAHO}: the loop no longer asks the socket for pending bytes; the read-ahead "
        "socket's buffer would wait for the next select()"
    )
    assert "_last_bytes_received" in inspect.getsource(mqtt.Client._check_keepalive), (
        f"{PAHO}: keepalive no longer reads _last_bytes_received"
    )


def test_the_ingest_client_still_overrides_what_it_means_to() -> None:
    for name in ("_packet_read", "_create_socket", "_handle_publish"):
        assert name in vars(IngestClient) and name in PAHO_PRIVATE_METHODS


def meter(seq: int) -> bytes:
    return json.dumps(
        {"ts": time.time(), "seq": seq, "activePower": 1.0, "activeEnergyImport": 2.0}
    ).encode()


def test_an_idle_connection_is_kept_alive_through_the_short_path(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    keepalive = 2
    settings = IngestSettings(client_id="keepalive", keepalive_s=keepalive)
    worker = IngestWorker(BrokerAddress.from_url(mosquitto.url), sqlite_store, settings)
    paho_log: list[str] = []
    worker._client.on_log = lambda client, userdata, level, line: paho_log.append(line)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert worker.wait_subscribed(10)
        with publisher(mosquitto.url) as pub:
            pub.publish("territory/z/meter/m-1/telemetry", meter(1), qos=1).wait_for_publish(5)
            assert wait_until(lambda: sqlite_store.stats().readings == 1)
            # No traffic for three keepalive periods and a half: only pings keep it up.
            time.sleep(3.5 * keepalive)
            pub.publish("territory/z/meter/m-1/telemetry", meter(2), qos=1).wait_for_publish(5)
            assert wait_until(lambda: sqlite_store.stats().readings == 2)
        connected = worker.health.broker_connected
        reconnections = worker._connection  # counts disconnections (stopping adds one)
    finally:
        stop.set()
        thread.join(10)

    assert connected
    assert reconnections == 0, "the connection was dropped and made again"
    pongs = sum("PINGRESP" in line for line in paho_log)
    assert pongs >= 2, f"only {pongs} PINGRESP in {3.5 * keepalive} s idle"
    (log,) = mosquitto.folder.glob("mosquitto.log")
    assert "exceeded timeout" not in log.read_text()
