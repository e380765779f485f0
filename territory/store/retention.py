"""Retention, whatever the backend: what has aged out goes (`RetentionSettings`).

SQLite removes it itself (`sqlite_retention`); InfluxDB drops whole shards on its own,
by the durations of the store's retention policies, which each pass sets to the
configured ones (`influx_retention`).
"""

from __future__ import annotations

from territory.settings import RetentionSettings
from territory.store.base import Store
from territory.store.lifecycle import ExpiryReport, Pace


def expire(store: Store, retention: RetentionSettings, now_ns: int, pace: Pace) -> ExpiryReport:
    from territory.store.influx import InfluxStore
    from territory.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        from territory.store import sqlite_retention

        return sqlite_retention.expire(store, retention, now_ns, pace)
    if isinstance(store, InfluxStore):
        from territory.store.influx_retention import apply_policies

        apply_policies(store, retention)
        return ExpiryReport()
    raise TypeError(f"no retention for a {type(store).__name__}")
