"""`territory gbfs poll --once` and `territory gbfs adopt`, as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from territory.inventory import dump_inventory, load_inventory
from territory.shell.cli import app
from territory.store.sqlite import SqliteStore
from tests.bridges.gbfs.helpers import NOW, inventory, stations
from tests.bridges.gbfs.systems import FeedServer, serving, system_files
from tests.ingest.helpers import wait_until, worker_thread
from tests.services import Mosquitto


def test_poll_once_then_adopt_the_discovered_station(
    mosquitto: Mosquitto, sqlite_store: SqliteStore, tmp_path: Path
) -> None:
    inventory_file = tmp_path / "inventory.yaml"
    inventory_file.write_text(dump_inventory(inventory()))
    discovered = tmp_path / "discovered.yaml"
    adopted = tmp_path / "adopted.yaml"
    server = FeedServer()
    runner = CliRunner()
    with serving(server):
        server.files = system_files("3.0", server.base, stations(), NOW)
        options = [
            "gbfs", "poll", "--feed", f"{server.base}/gbfs.json", "--once",
            "--mqtt", mosquitto.url, "--name", "velo", "--origin", "45.75,4.85",
            "--discovered", str(discovered),
        ]  # fmt: skip
        with worker_thread(mosquitto.url, sqlite_store, inventory()):
            first = runner.invoke(app, [*options, "--inventory", str(inventory_file)])
            assert wait_until(lambda: sqlite_store.stats().readings == 2)
        adopt = runner.invoke(
            app,
            ["gbfs", "adopt", "--inventory", str(inventory_file), "--discovered", str(discovered),
             "--output", str(adopted)],
        )  # fmt: skip
        grown = load_inventory(adopted)
        # The same system as a configured source of the running platform.
        sources = tmp_path / "gbfs.yaml"
        sources.write_text(
            f"sources:\n  - feed: {server.base}/gbfs.json\n    name: velo\n"
            f"    origin: {{latitude: 45.75, longitude: 4.85}}\n    discovered_file: {discovered}\n"
        )
        configured = ["gbfs", "poll", "--config", str(sources), "--once", "--mqtt", mosquitto.url]
        with worker_thread(mosquitto.url, sqlite_store, grown):
            second = runner.invoke(app, [*configured, "--inventory", str(adopted)])
            assert wait_until(lambda: sqlite_store.stats().readings == 3)
        refused = runner.invoke(app, [*options, "--mqtt-auth", str(tmp_path / "auth.yaml")])
    assert first.exit_code == 0, first.output
    assert "GBFS 3.0, 2 readings, 0 refused, 1 stations not in the inventory" in first.output
    assert adopt.exit_code == 0, adopt.output
    assert grown.device("velo-s3") is not None
    assert (grown.device("velo-s3").zone, grown.device("velo-s3").capacity) == ("nord", 12)
    assert second.exit_code == 0, second.output
    assert "velo: GBFS 3.0, 3 readings, 0 refused, 0 stations not in the inventory" in second.output
    assert sqlite_store.latest(zone="nord")[0].fields["availableBikeNumber"] == 3
    assert sqlite_store.stats().rejected == {}
    assert refused.exit_code == 2 and "auth.yaml: cannot read the MQTT account" in refused.output
