"""Scenario files: the shipped ones load; bad ones fail naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devices.scenario import ScenarioError, load_scenario
from tests.devices.helpers import tiny_document
from tests.services import REPO

TERRITORIES = sorted((REPO / "config/territories").glob("*.yaml"))


@pytest.mark.parametrize("path", TERRITORIES, ids=lambda p: p.stem)
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.zones and scenario.feeders
    ids = [d.device_id for d in scenario.devices()]
    assert len(ids) == len(set(ids))


def test_demo_has_every_kind_the_brief_names() -> None:
    scenario = load_scenario(REPO / "config/territories/demo.yaml")
    kinds = {d.kind for d in scenario.devices()}
    assert kinds == {
        "meter",
        "pv",
        "ev_charger",
        "bike_station",
        "traffic",
        "transit_counter",
        "air",
    }
    assert 3 <= len(scenario.zones) <= 4
    assert scenario.vans and scenario.corridors


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _error(tmp_path: Path, document: Any) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, document))
    return str(caught.value)


def test_a_bad_value_names_its_field(tmp_path: Path) -> None:
    document = tiny_document(feeders=[{"id": "f-a", "zone": "a", "limit_kw": -5}])
    message = _error(tmp_path, document)
    assert "feeders.0.limit_kw" in message and "greater than 0" in message
    assert "scenario.yaml" in message


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    document = tiny_document(zones=[{"id": "a", "name": "A", "x": 0, "y": 0, "colour": "red"}])
    assert "zones.0.colour" in _error(tmp_path, document)


def test_a_dangling_reference_names_the_group(tmp_path: Path) -> None:
    document = tiny_document()
    document["meters"][0]["feeder"] = "f-nowhere"
    assert "meters.0.feeder: unknown feeder 'f-nowhere'" in _error(tmp_path, document)


def test_an_unknown_zone_is_named(tmp_path: Path) -> None:
    document = tiny_document()
    document["air"][0]["zone"] = "atlantis"
    assert "air.0.zone: unknown zone 'atlantis'" in _error(tmp_path, document)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    document = tiny_document(vans=[{"id": "v", "zone": "a", "capacity": 3}] * 2)
    assert "vans: 'v' is declared twice" in _error(tmp_path, document)


def test_more_bikes_than_slots_is_refused(tmp_path: Path) -> None:
    document = tiny_document()
    document["bike_stations"][0]["bikes"] = 11
    assert "bike_stations.0" in _error(tmp_path, document)


def test_not_yaml_and_missing_files_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("zones: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="cannot read the scenario"):
        load_scenario(tmp_path / "absent.yaml")
    assert "the scenario must be a mapping" in _error(tmp_path, ["a", "list"])


def test_device_ids_are_stable_and_prefixed(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, tiny_document()))
    meters = [d.device_id for d in scenario.devices() if d.kind == "meter"]
    assert meters == ["a-mtr-001", "a-mtr-002", "a-mtr-003"]
