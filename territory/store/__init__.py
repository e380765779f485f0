"""Store backends behind one interface, chosen by URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from territory.store.base import (
    AuditEntry,
    Plan,
    Store,
    StoreRejected,
    StoreStats,
    StoreUnavailable,
    WriteResult,
)

__all__ = [
    "AuditEntry",
    "Plan",
    "Store",
    "StoreRejected",
    "StoreStats",
    "StoreUnavailable",
    "WriteResult",
    "open_store",
]


def open_store(url: str) -> Store:
    """`sqlite:///relative/or/absolute.db` or `influx://host:port/db` (credentials from the
    environment: `territory.store.credentials`)."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from territory.store.sqlite import SqliteStore

        return SqliteStore.from_url(url)
    if scheme in ("influx", "influxdb"):
        from territory.store.influx import InfluxStore

        return InfluxStore.from_url(url)
    raise ValueError(
        f"unknown store URL scheme {scheme!r}: use sqlite:///PATH or influx://HOST:PORT/DB"
    )
