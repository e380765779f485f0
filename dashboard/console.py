"""The console's shared parts, handed to every route through `console_of`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from prometheus_client import CollectorRegistry

from dashboard.alerts import AlertBook
from dashboard.audit import AuditLog
from dashboard.config import ConsoleConfig
from dashboard.live import LiveFeed
from dashboard.optimise import OptimiserRuns
from dashboard.reader import StoreReader
from dashboard.territory_map import TerritoryMap
from dashboard.throttle import SignInGuard, TokenBuckets


@dataclass
class Console:
    """What every route needs: the config, the store, the live feed, the map, the alerts,
    the optimiser runs, and who is let in how often (the audit log says who was)."""

    config: ConsoleConfig
    reader: StoreReader
    feed: LiveFeed
    territory: TerritoryMap
    alerts: AlertBook
    runs: OptimiserRuns
    audit: AuditLog
    sign_ins: SignInGuard
    rate_limits: TokenBuckets
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console
