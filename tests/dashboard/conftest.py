"""Fixtures for the console tests: a secured console over a seeded store, and a headless
Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from territory.store.sqlite import SqliteStore
from tests.dashboard.browser import launch_chromium
from tests.dashboard.helpers import ConsoleServer, secured_config, seed, serve


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, one per test session."""
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[ConsoleServer]:
    """A console with a viewer and an operator token over a seeded store."""
    store = SqliteStore(tmp_path / "territory.db")
    seed(store)
    store.close()
    running = serve(tmp_path / "territory.db", secured_config())
    yield running
    running.stop()
    running.store.close()
