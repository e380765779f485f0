"""`territory lorawan` as an operator runs it: a process between two brokers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from territory.inventory import dump_inventory
from territory.store.sqlite import SqliteStore
from tests.bridges.lorawan.test_bridge import CHIRPSTACK_TOPIC, HERE, inventory, recorded
from tests.ingest.helpers import publisher, wait_until, worker_thread
from tests.services import REPO, Mosquitto


def test_the_command_republishes_uplinks_until_stopped(
    network_server: Mosquitto, mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    inventory_file = tmp_path / "inventory.yaml"
    inventory_file.write_text(dump_inventory(inventory()))
    command = [
        sys.executable, "-m", "territory", "lorawan", "--source", network_server.url,
        "--format", "chirpstack", "--mapping", str(HERE / "mapping.yaml"),
        "--mqtt", mosquitto.url, "--inventory", str(inventory_file),
    ]  # fmt: skip
    uplink = recorded("chirpstack-air.json")
    topic = CHIRPSTACK_TOPIC.format(eui="0101010101010101")
    with worker_thread(mosquitto.url, sqlite_store, inventory()):
        bridge = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            with publisher(network_server.url, "network-server") as ns:
                # Until the bridge has subscribed, the network server's broker drops uplinks:
                # send one every half second, each with its own frame counter.
                def arrived() -> bool:
                    uplink["fCnt"] += 1
                    ns.publish(topic, json.dumps(uplink).encode(), qos=1).wait_for_publish(5)
                    time.sleep(0.5)
                    return sqlite_store.stats().readings > 0

                assert wait_until(arrived, timeout=30)
        finally:
            bridge.send_signal(signal.SIGTERM)
            output = bridge.communicate(timeout=20)[0].decode()
    assert bridge.returncode == 0, output
    assert f"lorawan: chirpstack uplinks from {network_server.url}" in output
    reading = sqlite_store.latest()[0]
    assert (reading.device_id, reading.fields["pm25"]) == ("centre-air-001", 11.5)
