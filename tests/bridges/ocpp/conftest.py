"""Fixtures for the OCPP bridge tests: a listener on the test broker, and a bridge process
per test (helpers.py holds the rest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bridges.ocpp.helpers import BridgeProcess, ChargerSpec, Listener, write_inventory
from tests.services import Mosquitto


@pytest.fixture
def listener(mosquitto: Mosquitto) -> Iterator[Listener]:
    found = Listener(mosquitto.url)
    yield found
    found.close()


@pytest.fixture
def start_bridge(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., BridgeProcess]]:
    """Start a bridge for an inventory of these chargers; stopped after the test."""
    started: list[BridgeProcess] = []

    def start(
        chargers: list[ChargerSpec],
        feeder_limits: dict[str, float] | None = None,
        tls: tuple[Path, Path] | None = None,
        extra: list[str] | None = None,
    ) -> BridgeProcess:
        inventory = write_inventory(
            tmp_path / "inventory", chargers, feeder_limits or {"f1": 100.0}
        )
        bridge = BridgeProcess(
            inventory, mosquitto.url, tmp_path / f"bridge-{len(started)}.log", tls, extra or []
        )
        bridge.start()
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        bridge.stop()
