"""Recorded ChirpStack v4 and The Things Stack v3 uplinks, replayed on a real mosquitto
standing for the network server's broker, arrive in the store as readings (or as dead
letters, with their reason) through our broker and a real ingest worker."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridges.lorawan.bridge import LorawanBridge, SourceBroker
from bridges.lorawan.formats import Format
from bridges.lorawan.mapping import Mapper, Mapping
from bridges.publish import Publisher, broker_address
from territory import documents
from territory.inventory import Device, Inventory, Zone
from territory.store.sqlite import SqliteStore
from tests.ingest.helpers import publisher, wait_until, worker_thread
from tests.services import Mosquitto

HERE = Path(__file__).parent
NOW = time.time() - 60
NOW_TEXT = datetime.fromtimestamp(NOW, UTC).isoformat()


def recorded(name: str) -> dict[str, Any]:
    """A recorded uplink, replayed as if it had just been received."""
    uplink: dict[str, Any] = json.loads((HERE / "uplinks" / name).read_text())
    if "deviceInfo" in uplink:
        uplink["time"] = NOW_TEXT
    else:
        uplink["received_at"] = uplink["uplink_message"]["received_at"] = NOW_TEXT
    return uplink


def inventory() -> Inventory:
    return Inventory(
        name="lorawan-test",
        zones=[Zone(id="centre", name="Centre", x=0, y=0), Zone(id="nord", name="Nord", x=0, y=2)],
        devices=[
            Device(id="centre-air-001", kind="air", zone="centre"),
            Device(id="nord-trf-001", kind="traffic", zone="nord"),
        ],
    )


@contextmanager
def bridged(fmt: Format, network_server: Mosquitto, ours: Mosquitto) -> Iterator[LorawanBridge]:
    mapping = documents.load(Mapping, HERE / "mapping.yaml", "mapping")
    out = Publisher(broker_address(ours.url), "lorawan", f"test-lorawan-{fmt}-out")
    bridge = LorawanBridge(
        fmt,
        SourceBroker.from_url(network_server.url),
        Mapper(mapping, inventory()),
        out,
        client_id=f"test-lorawan-{fmt}",
    )
    bridge.start()
    assert bridge.subscribed.wait(10)
    try:
        yield bridge
    finally:
        bridge.stop()
        out.close()


def replay(network_server: Mosquitto, uplinks: list[tuple[str, bytes]]) -> None:
    with publisher(network_server.url, "network-server") as ns:
        for topic, body in uplinks:
            ns.publish(topic, body, qos=1).wait_for_publish(10)


CHIRPSTACK_TOPIC = "application/17c82e96/device/{eui}/event/up"


def test_chirpstack_uplinks_become_readings_or_dead_letters(
    network_server: Mosquitto, mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    good = recorded("chirpstack-air.json")
    no_codec = copy.deepcopy(good)
    del no_codec["object"]
    stranger = copy.deepcopy(good)
    stranger["deviceInfo"]["devEui"] = "0909090909090909"
    negative = copy.deepcopy(good)
    negative["object"]["pm2_5"] = -3.0
    negative["fCnt"] = 413
    ghost = copy.deepcopy(good)
    ghost["deviceInfo"]["devEui"] = "0202020202020202"
    uplinks = [
        (CHIRPSTACK_TOPIC.format(eui="0101010101010101"), json.dumps(good).encode()),
        (CHIRPSTACK_TOPIC.format(eui="0101010101010101"), json.dumps(no_codec).encode()),
        (CHIRPSTACK_TOPIC.format(eui="0909090909090909"), json.dumps(stranger).encode()),
        (CHIRPSTACK_TOPIC.format(eui="0101010101010101"), json.dumps(negative).encode()),
        (CHIRPSTACK_TOPIC.format(eui="0202020202020202"), json.dumps(ghost).encode()),
        (CHIRPSTACK_TOPIC.format(eui="0101010101010101"), b"{not json"),
    ]
    with (
        worker_thread(mosquitto.url, sqlite_store, inventory()),
        bridged("chirpstack", network_server, mosquitto),
    ):
        replay(network_server, uplinks)
        assert wait_until(lambda: sum(sqlite_store.stats().rejected.values()) == 5)
        assert wait_until(lambda: sqlite_store.stats().readings == 1)

    (reading,) = sqlite_store.latest()
    assert (reading.device_id, reading.kind, reading.zone) == ("centre-air-001", "air", "centre")
    assert reading.seq == 412
    assert reading.ts_ns == pytest.approx(NOW * 1e9, abs=1e3)
    assert reading.fields == {"pm25": 11.5, "pm10": 19.0, "no2": pytest.approx(22.56)}

    letters = {str(d["detail"]): d for d in sqlite_store.deadletters()}
    reasons = sorted(str(d["reason"]) for d in letters.values())
    assert reasons == ["invalid_json", "invalid_value", "not_decoded", "not_mapped", "not_mapped"]
    details = "\n".join(letters)
    assert "no decoded object" in details
    assert "DevEUI 0909090909090909) is not in the mapping" in details
    assert "'ghost-001' is not in the inventory" in details
    assert "centre-air-001: pm25" in details
    for letter in letters.values():
        assert str(letter["topic"]).startswith("application/17c82e96/device/")
    # The dead letter keeps the uplink as the network server sent it.
    invalid = next(d for d in letters.values() if d["reason"] == "invalid_value")
    assert json.loads(str(invalid["payload"]))["object"]["pm2_5"] == -3.0


def test_the_things_stack_uplinks_become_readings(
    network_server: Mosquitto, mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    good = recorded("tts-traffic.json")
    unformatted = copy.deepcopy(good)
    del unformatted["uplink_message"]["decoded_payload"]
    unformatted["uplink_message"]["decoded_payload_warnings"] = ["no formatter"]
    unknown_model = copy.deepcopy(good)
    unknown_model["end_device_ids"]["device_id"] = "loop-counter-nord"
    unknown_model["uplink_message"]["version_ids"]["model_id"] = "other-counter"
    unknown_model["uplink_message"]["f_cnt"] = 78
    topic = "v3/traffic@ttn/devices/loop-counter-nord/up"
    uplinks = [(topic, json.dumps(u).encode()) for u in (good, unformatted, unknown_model)]
    with (
        worker_thread(mosquitto.url, sqlite_store, inventory()),
        bridged("tts", network_server, mosquitto),
    ):
        replay(network_server, uplinks)
        assert wait_until(lambda: sum(sqlite_store.stats().rejected.values()) == 2)
        assert wait_until(lambda: sqlite_store.stats().readings == 1)

    (reading,) = sqlite_store.latest()
    assert (reading.device_id, reading.kind, reading.zone) == ("nord-trf-001", "traffic", "nord")
    assert reading.seq == 77
    assert reading.ts_ns == pytest.approx(NOW * 1e9, abs=1e3)
    assert reading.fields == {
        "intensity": 90,
        "occupancy": pytest.approx(0.235),
        "averageVehicleSpeed": 41.2,
    }
    rejected = sqlite_store.stats().rejected
    assert rejected == {"not_decoded": 1, "not_mapped": 1}
    details = " ".join(str(d["detail"]) for d in sqlite_store.deadletters())
    assert "no formatter" in details
    assert "no mapping for device profile 'acme/other-counter'" in details
