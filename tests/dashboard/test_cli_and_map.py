"""The command line's errors, and the map drawn from a scenario file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dashboard.territory_map import load_territory_map
from territory.cli import app
from tests.dashboard.rich import write_scenario


def test_a_bad_console_config_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "console.yaml"
    config.write_text("tokens:\n  - {name: x, role: admin, token: short}\n")
    result = CliRunner().invoke(app, ["dashboard", "--console-config", str(config)])
    assert result.exit_code == 2
    assert "tokens.0.role" in result.output
    assert "16 characters" in result.output


def test_a_bad_scenario_names_the_field(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("zones: 3\n")
    result = CliRunner().invoke(
        app,
        ["dashboard", "--territory", str(scenario), "--store", f"sqlite:///{tmp_path}/t.db"],
    )
    assert result.exit_code == 2
    assert "zones" in result.output


def test_the_map_comes_from_the_scenario(tmp_path: Path) -> None:
    territory = load_territory_map(write_scenario(tmp_path))
    assert territory.from_inventory
    assert [(z.id, z.x, z.y) for z in territory.zones] == [
        ("centre", 0.0, 0.0),
        ("north", 0.5, 3.0),
        ("east", 3.0, 1.0),
    ]
    line = territory.corridors["line-1"]
    assert (line.capacity, line.slot_minutes, line.zones) == (120.0, 15.0, ("north", "centre"))
    assert territory.transit_period_s == 60.0


def test_without_a_scenario_file_the_map_is_empty_and_filled_from_readings(tmp_path: Path) -> None:
    territory = load_territory_map(tmp_path / "missing.yaml").with_zones_of(["b", "a"])
    assert not territory.from_inventory
    assert [z.id for z in territory.zones] == ["a", "b"]
