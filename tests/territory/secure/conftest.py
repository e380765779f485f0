"""A territory secured by `territory secure init`, its mosquitto running over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import free_port
from tests.territory.secure.helpers import SecuredBroker, start_secured


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    """One secured broker shared by a module's tests (each leaves no session behind)."""
    running = start_secured(tmp_path_factory.mktemp("secured"), local_port=free_port())
    yield running
    running.broker.stop()


@pytest.fixture
def fresh_secured(tmp_path: Path) -> Iterator[SecuredBroker]:
    """A secured broker of the test's own, for tests that change the set-up."""
    running = start_secured(tmp_path)
    yield running
    running.broker.stop()
