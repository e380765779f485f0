"""`/metrics`: the console's figures for Prometheus, read from its parts at scrape time."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboard.access import metrics_reader
from dashboard.console import Console, console_of

router = APIRouter(tags=["health"])


class ConsoleCollector(Collector):
    """Figures of one console; a registry of its own so that several apps can coexist."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def collect(self) -> Iterator[Metric]:
        feed = self.console.feed
        yield GaugeMetricFamily(
            "territory_console_stream_clients",
            "Pages connected to the live stream.",
            value=feed.clients,
        )
        yield CounterMetricFamily(
            "territory_console_batches", "Batches of changes published.", value=feed.version
        )
        yield CounterMetricFamily(
            "territory_console_polls", "Polls of the store.", value=feed.polls
        )
        yield CounterMetricFamily(
            "territory_console_store_errors",
            "Polls that failed to read the store.",
            value=feed.errors,
        )
        yield GaugeMetricFamily(
            "territory_console_devices", "Devices with a reading.", value=len(feed.state.readings)
        )
        if feed.last_poll_ok is not None:
            yield GaugeMetricFamily(
                "territory_console_last_poll_age_seconds",
                "Seconds since the last good poll.",
                value=time.time() - feed.last_poll_ok,
            )
        open_alerts = GaugeMetricFamily(
            "territory_console_alerts_open",
            "Open alerts by rule and severity.",
            labels=["rule", "severity"],
        )
        counts = Counter((a["rule"], a["severity"]) for a in feed.state.alerts.values())
        for (rule, severity), count in sorted(counts.items()):
            open_alerts.add_metric([rule, severity], count)
        yield open_alerts
        runs = CounterMetricFamily(
            "territory_console_optimise_runs",
            "Finished optimiser runs triggered from the console.",
            labels=["domain", "state"],
        )
        for (domain, state), count in sorted(self.console.runs.totals.items()):
            runs.add_metric([domain, state], count)
        yield runs
        yield CounterMetricFamily(
            "territory_console_tokens_refused",
            "Requests whose bearer token matched no configured token.",
            value=self.console.sign_ins.refused_total,
        )
        yield CounterMetricFamily(
            "territory_console_addresses_turned_away",
            "Times an address reached the refused-token limit and was turned away (429).",
            value=self.console.sign_ins.turned_away_total,
        )
        yield CounterMetricFamily(
            "territory_console_audit_errors",
            "Audit entries the store refused (they are in the log all the same).",
            value=self.console.audit.errors,
        )


def make_registry(console: Console) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ConsoleCollector(console))
    return registry


@router.get("/metrics", response_class=Response, dependencies=[Depends(metrics_reader)])
async def metrics(console: Console = Depends(console_of)) -> Response:
    """Prometheus text format."""
    return Response(generate_latest(console.registry), media_type="text/plain; version=0.0.4")
