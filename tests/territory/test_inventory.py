"""The inventory: loaded from YAML, exported from a scenario, and its errors named."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from devices.inventory import scenario_inventory
from devices.scenario import load_scenario
from territory.bus import is_loopback
from territory.inventory import InventoryError, load_inventory
from territory.shell.cli import app

DEMO = Path("config/territories/demo.yaml")


def test_export_writes_an_inventory_that_loads_back_to_the_scenario_s_devices(
    tmp_path: Path,
) -> None:
    out = tmp_path / "inventory.yaml"
    result = CliRunner().invoke(
        app, ["inventory", "export", "--territory", str(DEMO), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "devices:" in out.read_text() and "ev_chargers:" not in out.read_text()
    inventory = load_inventory(out)
    scenario = load_scenario(DEMO)
    assert inventory == scenario_inventory(scenario)
    # Every device of every group, one by one, and each feeder as a device of its own.
    assert len(inventory.devices) == len(scenario.devices()) + len(scenario.feeders)
    est = inventory.by_id["f-est"]
    assert (est.kind, est.limit_kw, est.export_limit) == ("feeder", 95.0, 25.0)
    charger = inventory.by_id["gare-evc-001"]
    assert (charger.max_power_kw, charger.feeder, charger.zone) == (22.0, "f-gare", "gare")
    assert inventory.by_id["centre-bik-001"].capacity == 20
    assert [v.capacity for v in inventory.vans] == [15, 15]
    assert inventory.by_id["van-1"].kind == "van"
    assert {c.id: c.capacity_per_slot for c in inventory.corridors} == {
        "ligne-a": 450,
        "ligne-b": 300,
    }


def test_a_scenario_file_is_accepted_where_an_inventory_is_asked_for() -> None:
    assert load_inventory(DEMO) == scenario_inventory(load_scenario(DEMO))


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("name: t\nzones: []\n", "zones: List should have at least 1 item"),
        (
            "name: t\nzones: [{id: z, name: Z, x: 0, y: 0}]\n"
            "devices: [{id: f, kind: feeder, zone: z}]\n",
            "a feeder needs limit_kw",
        ),
        (
            "name: t\nzones: [{id: z, name: Z, x: 0, y: 0}]\n"
            "devices: [{id: c, kind: ev_charger, zone: z, max_power_kw: 7, feeder: nowhere}]\n",
            "c: unknown feeder 'nowhere'",
        ),
        (
            "name: t\nzones: [{id: z, name: Z, x: 0, y: 0}]\n"
            "devices: [{id: 'bad\\\\', kind: meter, zone: z}]\n",
            "devices.0.id: String should match pattern",
        ),
        (
            "name: t\nzones: [{id: z, name: Z, x: 0, y: 0}]\n"
            "devices: [{id: m, kind: meter, zone: z, powerLimit: 3}]\n",
            "devices.0.powerLimit: Extra inputs are not permitted",
        ),
        ("- just\n- a list\n", "the inventory must be a mapping of fields, not list"),
    ],
)
def test_an_unusable_inventory_names_the_file_and_the_field(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert named in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.4.5.6", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.0.2.7", False),
        ("broker.example", False),
    ],
)
def test_the_open_embedded_broker_listens_on_loopback_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if not loopback:
        result = CliRunner().invoke(app, ["broker", "--host", host, "--port", "1"])
        assert result.exit_code == 2 and "loopback only" in result.output
