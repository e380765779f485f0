"""Everything the console reads from the store, and the audit entries it writes there.

The store is opened lazily and reopened after a failure, so the console starts (and
answers /healthz with 503) while the store is down. For SQLite the cheap polling queries
go straight to the file through a read-only connection of our own; any other backend is
read through the Store protocol alone.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store import AuditEntry, Plan, Store, StoreUnavailable, open_store
from territory.store.history import series
from territory.store.rollups import Rollup
from territory.store.sqlite import reading_from_row
from territory.store.zone_history import ZoneStep, zone_series

Version = tuple[int, int]  # (device ts_ns, seq): a device's newest reading


class SqliteFastPath:
    """Read-only queries on the store's SQLite file that the Store protocol has no call for."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=10, check_same_thread=False
        )

    def rows(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"read failed: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()


class StoreReader:
    """The console's window on the store. Every method may raise StoreUnavailable."""

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._store: Store | None = None
        self._fast: SqliteFastPath | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = _open(self.store_url)
                path = getattr(self._store, "path", None)
                if isinstance(path, Path):
                    self._fast = SqliteFastPath(path)
            return self._store

    @property
    def fast(self) -> SqliteFastPath | None:
        _ = self.store
        return self._fast

    def versions(self) -> dict[str, Version]:
        """Each device's newest (ts_ns, seq): cheap, so it can be polled often."""
        if self.fast is not None:
            rows = self.fast.rows("SELECT device_id, ts_ns, seq FROM latest")
            return {str(d): (int(t), int(s)) for d, t, s in rows}
        return {r.device_id: (r.ts_ns, r.seq) for r in self.store.latest()}

    def latest_of(self, device_ids: Iterable[str]) -> list[Reading]:
        """The newest reading of each of these devices."""
        wanted = set(device_ids)
        if not wanted:
            return []
        if self.fast is None:
            return [r for r in self.store.latest() if r.device_id in wanted]
        found: list[Reading] = []
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.fast.rows(
                "SELECT device_id, ts_ns, seq, kind, zone, arrival_ns, fields FROM latest"
                f" WHERE device_id IN ({marks})",
                tuple(chunk),
            )
            found.extend(reading_from_row(row) for row in rows)
        return found

    def latest(self, kind: str | None = None, zone: str | None = None) -> list[Reading]:
        return self.store.latest(kind=kind, zone=zone)

    def plans(self, domain: str | None = None, limit: int = 20) -> list[Plan]:
        return self.store.plans(domain=domain, limit=limit)

    def newest_plan_stamp(self) -> tuple[str, float] | None:
        """(domain, created) of the newest plan: polled to notice a new plan."""
        newest = self.store.plans(limit=1)
        return (newest[0].domain, newest[0].created) if newest else None

    def last_plans(self, domains: Iterable[str]) -> dict[str, Plan]:
        found: dict[str, Plan] = {}
        for domain in domains:
            plans = self.store.plans(domain=domain, limit=1)
            if plans:
                found[domain] = plans[0]
        return found

    def newest_arrival_ns(self) -> int | None:
        if self.fast is not None:
            (value,) = self.fast.rows("SELECT max(arrival_ns) FROM latest")[0]
            return int(value) if value is not None else None
        arrivals = [r.arrival_ns for r in self.store.latest()]
        return max(arrivals) if arrivals else None

    def deadletter_counts(self) -> dict[str, int]:
        if self.fast is not None:
            rows = self.fast.rows("SELECT reason, count(*) FROM deadletters GROUP BY reason")
            return {str(reason): int(count) for reason, count in rows}
        return dict(self.store.stats().rejected)

    def history(self, device_id: str, start_ns: int, end_ns: int) -> list[Reading]:
        return self.store.history(device_id, start_ns, end_ns)

    def steps(
        self, device_id: str, start_ns: int, end_ns: int, step_s: int, settings: RollupSettings
    ) -> list[Rollup]:
        """The device's history in steps, from rollups for long windows."""
        return series(self.store, device_id, start_ns, end_ns, step_s, settings)

    def zone_steps(
        self,
        device_ids: Collection[str],
        kind: str,
        start_ns: int,
        end_ns: int,
        step_s: int,
        settings: RollupSettings,
    ) -> list[ZoneStep]:
        """A zone's devices of one kind added up per step, all read together."""
        return zone_series(self.store, device_ids, kind, start_ns, end_ns, step_s, settings)

    def append_audit(self, entry: AuditEntry) -> None:
        """The one write the console makes: an entry of its audit log."""
        self.store.append_audit(entry)

    def audit(self, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        return self.store.audit(since=since, limit=limit)

    def close(self) -> None:
        with self._lock:
            if self._fast is not None:
                self._fast.close()
            if self._store is not None:
                self._store.close()
            self._store = self._fast = None

    def reset(self) -> None:
        """Drop the connection after a failure; the next call reopens it."""
        try:
            self.close()
        except Exception:  # the store is already broken; reopening is what matters
            self._store = self._fast = None


def _open(store_url: str) -> Store:
    try:
        return open_store(store_url)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"cannot open {_without_credentials(store_url)}: {exc}") from exc


def _without_credentials(url: str) -> str:
    """The URL less its user, password and query (where a token may be): /healthz shows it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"{parts.scheme}://{netloc}{parts.path}"


def reading_json(reading: Reading) -> dict[str, Any]:
    """A reading as the API and the page see it."""
    return {
        "device_id": reading.device_id,
        "kind": reading.kind,
        "zone": reading.zone,
        "ts": reading.ts_ns / 1e9,
        "seq": reading.seq,
        "arrival": reading.arrival_ns / 1e9,
        "fields": reading.fields,
    }


def plan_json(plan: Plan) -> dict[str, Any]:
    return plan.model_dump(mode="json")
