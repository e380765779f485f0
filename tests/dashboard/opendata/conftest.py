"""Fixtures for the open-data tests: a secured console with open data on (helpers.py
holds the rest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.helpers import ConsoleServer
from tests.dashboard.opendata.helpers import start


@pytest.fixture
def opendata(tmp_path: Path) -> Iterator[ConsoleServer]:
    running = start(tmp_path)
    yield running
    running.stop()
    running.store.close()
