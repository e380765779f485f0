"""The command line: its errors, failing closed without a token, making a token; and the map
drawn from a scenario file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from dashboard.app import create_app
from dashboard.config import ConsoleConfig, ConsoleConfigError, TokenSpec
from dashboard.territory_map import load_territory_map
from territory.shell.cli import app
from territory.tokens import hash_token, matches, new_token
from tests.dashboard.rich import write_scenario
from tests.services import REPO


def dashboard(tmp_path: Path, config: Path, *more: str) -> Result:
    """`territory dashboard` as typed; it must stop before it serves anything."""
    store = f"sqlite:///{tmp_path}/t.db"
    return CliRunner().invoke(
        app, ["dashboard", "--console-config", str(config), "--store", store, *more]
    )


def test_a_bad_console_config_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "console.yaml"
    config.write_text("tokens:\n  - {name: x, role: admin, token_hash: 'sha256:00:11'}\n")
    result = dashboard(tmp_path, config)
    assert result.exit_code == 2
    assert "tokens.0.role" in result.output
    assert "tokens.0.token_hash: not a token hash" in result.output


def test_a_token_written_in_clear_in_the_config_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "console.yaml"
    config.write_text("tokens:\n  - {name: x, role: viewer, token: a-token-in-clear-text}\n")
    result = dashboard(tmp_path, config)
    assert result.exit_code == 2
    assert "tokens are stored hashed" in result.output
    assert "a-token-in-clear-text" not in result.output


@pytest.mark.parametrize("text", ["tokens: []\n", "poll_s: 1\n", None])
def test_the_console_does_not_start_without_a_token(tmp_path: Path, text: str | None) -> None:
    config = tmp_path / "console.yaml"
    if text is not None:
        config.write_text(text)
    result = dashboard(tmp_path, config)
    assert result.exit_code == 2
    assert str(config) in result.output
    assert "territory secure token" in result.output or "cannot read" in result.output


def test_the_shipped_console_config_has_no_token_so_the_console_does_not_start(
    tmp_path: Path,
) -> None:
    result = dashboard(tmp_path, REPO / "config/console.yaml")
    assert result.exit_code == 2
    assert "no access token configured" in result.output
    with pytest.raises(ConsoleConfigError, match="no access token"):
        create_app(f"sqlite:///{tmp_path}/t.db", config=ConsoleConfig())


def test_a_certificate_needs_its_key(tmp_path: Path) -> None:
    config = tmp_path / "console.yaml"
    config.write_text("tokens: []\n")
    result = dashboard(tmp_path, config, "--tls-cert", str(config))
    assert result.exit_code == 2
    assert "--tls-cert and --tls-key go together" in result.output


def make_token(role: str) -> tuple[str, TokenSpec]:
    result = CliRunner().invoke(app, ["secure", "token", "--role", role, "--name", "alice"])
    assert result.exit_code == 0, result.output
    token = re.search(r"^token: (\S+)$", result.output, re.M)
    pasted = re.search(r"^  (- \{.*\})$", result.output, re.M)
    assert token and pasted, result.output
    (spec,) = yaml.safe_load(pasted[1])
    return token[1], TokenSpec.model_validate(spec)


def test_secure_token_prints_a_fresh_token_once_and_the_line_of_its_hash() -> None:
    token, spec = make_token("operator")
    again, other = make_token("operator")
    assert (spec.name, spec.role) == ("alice", "operator")
    assert matches(token, spec.token_hash) and matches(again, other.token_hash)
    assert token != again and spec.token_hash != other.token_hash
    assert not matches(again, spec.token_hash)
    assert len(token) >= 43 and token not in spec.token_hash


def test_a_bad_scenario_names_the_field(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("zones: 3\n")
    config = tmp_path / "console.yaml"
    token_line = {"name": "x", "role": "viewer", "token_hash": hash_token(new_token())}
    config.write_text(yaml.safe_dump({"tokens": [token_line]}))
    result = dashboard(tmp_path, config, "--territory", str(scenario))
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
