"""Fixtures for the devices tests: the tiny scenario and a telemetry listener."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.scenario import Scenario
from territory import topics
from tests.devices.helpers import tiny_document
from tests.mqtt_listener import Listener
from tests.services import Mosquitto


@pytest.fixture
def tiny() -> Scenario:
    return Scenario.model_validate(tiny_document())


@pytest.fixture
def collector(mosquitto: Mosquitto) -> Iterator[Listener]:
    """What arrives on the telemetry topics."""
    found = Listener(mosquitto.url, topics.TELEMETRY_FILTER)
    yield found
    found.close()
