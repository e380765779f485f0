"""The shipped example configurations of the bridges and of the open data stay valid."""

from __future__ import annotations

from bridges.gbfs.config import GbfsSources
from bridges.lorawan.mapping import Mapping
from dashboard.opendata.config import load_opendata_config
from territory import documents
from tests.services import REPO


def test_example_configurations_load() -> None:
    sources = documents.load(GbfsSources, REPO / "config/gbfs.example.yaml", "GBFS sources")
    assert sources.sources[0].device_id("42") == "velo-42"
    mapping = documents.load(Mapping, REPO / "config/lorawan.example.yaml", "LoRaWAN mapping")
    assert mapping.devices[0].dev_eui == "0101010101010101"
    opendata = load_opendata_config(REPO / "config/opendata.yaml")
    assert (opendata.privacy.k, opendata.licence.id) == (5, "etalab-2.0")
    assert opendata.origin is not None
