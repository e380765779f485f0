"""The console's shared parts, handed to every route through `console_of`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from prometheus_client import CollectorRegistry

from dashboard.alerts import AlertBook
from dashboard.config import ConsoleConfig
from dashboard.live import LiveFeed
from dashboard.optimise import OptimiserRuns
from dashboard.reader import StoreReader
from dashboard.territory_map import TerritoryMap


@dataclass
class Console:
    """What every route needs: the config, the store, the live feed, the map, the alerts
    and the optimiser runs."""

    config: ConsoleConfig
    reader: StoreReader
    feed: LiveFeed
    territory: TerritoryMap
    alerts: AlertBook
    runs: OptimiserRuns
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console
