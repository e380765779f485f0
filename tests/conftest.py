"""Fixtures that start real services: mosquitto and influxd on free ports in temp dirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.inventory import accept_scenarios
from territory.store.sqlite import SqliteStore
from tests.services import Influxd, Mosquitto

# As the command-line shell does: a scenario file is accepted wherever an inventory is.
accept_scenarios()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    server = Influxd(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "territory.db")
    yield store
    store.close()
