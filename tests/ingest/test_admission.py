"""Ingest with an inventory: who may report, on which topic, and limits that are claimed."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from territory.inventory import Device, Inventory, Zone
from territory.shell.cli import app
from territory.store.sqlite import SqliteStore
from tests.ingest.helpers import publisher, wait_until, worker_thread
from tests.services import Mosquitto

INVENTORY = Inventory(
    name="t",
    zones=[Zone(id="north", name="North", x=0, y=0), Zone(id="south", name="South", x=1, y=0)],
    devices=[
        Device(id="f-1", kind="feeder", zone="north", limit_kw=100.0),
        Device(id="m-1", kind="meter", zone="north", feeder="f-1"),
    ],
)


def payload(**fields: object) -> bytes:
    return json.dumps({"ts": time.time(), "seq": 1, **fields}).encode()


def test_unknown_devices_and_foreign_topics_are_dead_lettered_and_claims_counted(
    mosquitto: Mosquitto, sqlite_store: SqliteStore
) -> None:
    meter = payload(activePower=1.0, activeEnergyImport=2.0)
    sent = {
        "territory/north/meter/m-1/telemetry": meter,  # its own topic: stored
        "territory/north/meter/m-2/telemetry": meter,  # not in the inventory
        "territory/south/meter/m-1/telemetry": meter,  # another zone
        "territory/north/pv/m-1/telemetry": payload(activePower=1.0),  # another kind
        # The head meter claims ten times its limit: stored as it came, and counted.
        "territory/north/feeder/f-1/telemetry": payload(activePower=90.0, powerLimit=1000.0),
    }
    with (
        worker_thread(mosquitto.url, sqlite_store, INVENTORY, batch_size=10) as worker,
        publisher(mosquitto.url) as pub,
    ):
        for topic, body in sent.items():
            pub.publish(topic, body, qos=1).wait_for_publish(5)
        assert wait_until(lambda: sum(worker.metrics.rejected_by_reason().values()) == 3)
        assert wait_until(lambda: sqlite_store.stats().readings == 2)
        claims = worker.metrics.limit_claims.labels("feeder", "powerLimit")._value.get()
    assert worker.metrics.rejected_by_reason() == {"unknown_device": 1, "wrong_topic": 2}
    assert claims == 1
    letters = {letter["topic"]: letter for letter in sqlite_store.deadletters()}
    assert set(letters) == {
        "territory/north/meter/m-2/telemetry",
        "territory/south/meter/m-1/telemetry",
        "territory/north/pv/m-1/telemetry",
    }
    assert "not in the inventory" in str(letters["territory/north/meter/m-2/telemetry"]["detail"])
    (feeder,) = sqlite_store.latest(kind="feeder")
    assert feeder.fields["powerLimit"] == 1000.0  # the claim is kept as evidence, not obeyed


def test_an_unusable_inventory_stops_ingest_with_the_file_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "inventory.yaml"
    broken.write_text("name: t\nzones: []\n")
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--mqtt",
            "mqtt://127.0.0.1:1",
            "--store",
            f"sqlite:///{tmp_path}/x.db",
            "--inventory",
            str(broken),
        ],
    )
    assert result.exit_code == 2
    assert f"{broken}: zones:" in result.output
