"""A second mosquitto standing for the network server's broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import Mosquitto


@pytest.fixture
def network_server(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "network-server")
    broker.start()
    yield broker
    broker.stop()
