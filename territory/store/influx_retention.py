"""InfluxDB retention policies: InfluxDB itself drops what has aged out, a shard at a time.

The store keeps each kind of data in a retention policy of its own, created when the
store opens (InfluxDB 1.x; on 2.x and 3.x, where policies are buckets made by the
administrator, the statements are refused and that refusal is not an error: see
docs/operations.md for the buckets and DBRP mappings to create):

| policy        | holds                                   | default duration |
|---------------|-----------------------------------------|------------------|
| `raw`         | raw readings, late marks (the DEFAULT)  | 7 days, 1-day shards |
| `rollups`     | rollups of every level, the watermarks   | 2 years          |
| `deadletters` | dead letters                            | 30 days          |
| `plans`       | optimiser plans                         | 1 year           |
| `audit`       | the console's audit log                  | kept             |

`raw` is the database's default policy, so that readers which name no policy (Grafana,
InfluxQL by hand) read raw readings, as before.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any, Protocol

from territory.settings import RetentionSettings

log = logging.getLogger("store")

RAW = "raw"
ROLLUPS = "rollups"
DEADLETTERS = "deadletters"
PLANS = "plans"
AUDIT = "audit"

_SHARDS = {RAW: "1d", ROLLUPS: "7d", DEADLETTERS: "1d", PLANS: "7d", AUDIT: "7d"}
_DURATION = re.compile(r"(\d+)([hms])")


class Queries(Protocol):
    database: str

    def statement(self, influxql: str) -> dict[str, Any]:
        """Run one statement; the result (with "error" when InfluxDB refused it)."""
        ...


def durations(retention: RetentionSettings) -> dict[str, str]:
    """Each policy's duration in InfluxQL ("INF" for kept)."""

    def days(value: float) -> str:
        return f"{max(1, math.ceil(value * 24))}h"

    return {
        RAW: days(retention.raw_days),
        ROLLUPS: days(retention.rollups_days),
        DEADLETTERS: days(retention.deadletters_days),
        PLANS: days(retention.plans_days),
        AUDIT: "INF",
    }


def create_policies(influx: Queries, retention: RetentionSettings | None = None) -> None:
    """Create the missing policies (those there keep their durations)."""
    for name, duration in durations(retention or RetentionSettings()).items():
        default = " DEFAULT" if name == RAW else ""
        result = influx.statement(
            f'CREATE RETENTION POLICY "{name}" ON "{influx.database}" DURATION {duration}'
            f" REPLICATION 1 SHARD DURATION {_SHARDS[name]}{default}"
        )
        if "error" in result and "already exists" not in result["error"]:
            log.info("InfluxDB kept its retention policies as they are: %s", result["error"])
            return


def apply_policies(influx: Queries, retention: RetentionSettings) -> dict[str, str]:
    """Set every policy to the configured duration; returns the durations in force."""
    create_policies(influx, retention)
    for name, duration in durations(retention).items():
        default = " DEFAULT" if name == RAW else ""
        result = influx.statement(
            f'ALTER RETENTION POLICY "{name}" ON "{influx.database}" DURATION {duration}{default}'
        )
        if "error" in result:
            log.info("InfluxDB refused to change policy %s: %s", name, result["error"])
    return policy_durations(influx)


def policy_durations(influx: Queries) -> dict[str, str]:
    """Each policy's duration as InfluxDB reports it ('0s' for kept)."""
    result = influx.statement(f'SHOW RETENTION POLICIES ON "{influx.database}"')
    found = {}
    for series in result.get("series", []):
        for row in series["values"]:
            record = dict(zip(series["columns"], row, strict=True))
            found[str(record["name"])] = str(record["duration"])
    return found


def duration_ns(text: str) -> int | None:
    """InfluxDB's '168h0m0s' in ns; None for '0s' (kept for ever)."""
    total = sum(
        int(number) * {"h": 3600, "m": 60, "s": 1}[unit] for number, unit in _DURATION.findall(text)
    )
    return total * 1_000_000_000 if total else None
