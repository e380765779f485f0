"""The live feed: one poller per console, shared by every open page.

The poller asks the store every `poll_s` which devices have a newer reading (a cheap query
of the `latest` table), fetches only those, and publishes them as one numbered batch. The
console keeps the current state (one reading per device, one plan per domain, the open
alerts) and a short ring of recent batches: a page that reconnects with the number of the
last batch it saw gets the batches it missed merged into one, or a fresh snapshot when
they have left the ring. Memory is bounded by the number of devices and the ring size,
not by how long pages stay open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dashboard.reader import StoreReader, Version, plan_json, reading_json
from territory.store import StoreUnavailable

log = logging.getLogger(__name__)

DOMAINS = ("energy", "mobility", "slots")
SECTIONS = ("readings", "plans", "alerts", "zones")
DEADLETTER_EVERY_S = 5.0  # counting dead letters is dearer than the poll itself

# A section's changes: key (device id, domain, alert id) -> its new JSON value.
Changes = dict[str, dict[str, dict[str, Any]]]
# Called after each poll with the current state; returns changes of further sections.
TickHook = Callable[["FeedState", float], Changes]


@dataclass
class FeedState:
    """What an open page shows, kept current by the poller."""

    readings: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    deadletters: dict[str, int] = field(default_factory=dict)  # by reason, not streamed

    def section(self, name: str) -> dict[str, dict[str, Any]]:
        section: dict[str, dict[str, Any]] = getattr(self, name)
        return section


@dataclass
class Batch:
    version: int
    changes: Changes


class LiveFeed:
    """Polls the store, keeps the state and a ring of recent batches, wakes the streams."""

    def __init__(
        self,
        reader: StoreReader,
        *,
        poll_s: float = 0.5,
        ring_size: int = 120,
        hooks: tuple[TickHook, ...] = (),
    ) -> None:
        self.reader = reader
        self.poll_s = poll_s
        self.state = FeedState()
        self.version = 0
        self.last_poll_ok: float | None = None
        self.last_error: str | None = None
        self.polls = 0
        self.errors = 0
        self.clients = 0  # open streams, kept by the stream route
        self._hooks = hooks
        self._ring: deque[Batch] = deque(maxlen=ring_size)
        self._versions: dict[str, Version] = {}
        self._plan_stamp: tuple[str, float] | None = None
        self._deadletters_read = 0.0
        self._tick = asyncio.Event()

    async def run(self) -> None:
        """Poll until cancelled; a store failure is logged and retried on the next tick."""
        while True:
            await self.poll_and_publish()
            await asyncio.sleep(self.poll_s)

    async def poll_and_publish(self) -> None:
        self.polls += 1
        try:
            changes = await asyncio.to_thread(self.poll_once)
        except StoreUnavailable as exc:
            self.errors += 1
            if self.last_error != str(exc):
                log.warning("store unavailable: %s", exc)
            self.last_error = str(exc)
            await asyncio.to_thread(self.reader.reset)
            return
        self.last_error = None
        self.last_poll_ok = time.time()
        self.publish(changes)

    def poll_once(self) -> Changes:
        """What changed in the store since the last poll (runs in a worker thread)."""
        versions = self.reader.versions()
        changed = [d for d, v in versions.items() if self._versions.get(d) != v]
        readings = self.reader.latest_of(changed)
        self._versions.update({r.device_id: (r.ts_ns, r.seq) for r in readings})
        changes: Changes = {"readings": {r.device_id: reading_json(r) for r in readings}}
        stamp = self.reader.newest_plan_stamp()
        if stamp != self._plan_stamp:
            domains = dict.fromkeys([*DOMAINS, *([stamp[0]] if stamp else [])])
            plans = self.reader.last_plans(domains)
            changes["plans"] = {
                d: plan_json(p)
                for d, p in plans.items()
                if self.state.plans.get(d, {}).get("created") != p.created
            }
            self._plan_stamp = stamp
        if time.monotonic() - self._deadletters_read >= DEADLETTER_EVERY_S:
            self.state.deadletters = self.reader.deadletter_counts()
            self._deadletters_read = time.monotonic()
        return changes

    def publish(self, changes: Changes) -> None:
        """Apply changes (and those the hooks derive from them) and wake the streams."""
        self._apply(changes)
        for hook in self._hooks:
            self._apply(extra := hook(self.state, time.time()))
            changes = {**changes, **extra}
        changes = {name: items for name, items in changes.items() if items}
        if not changes:
            return
        self.version += 1
        self._ring.append(Batch(self.version, changes))
        woken, self._tick = self._tick, asyncio.Event()
        woken.set()

    def _apply(self, changes: Changes) -> None:
        for name, items in changes.items():
            section = self.state.section(name)
            for key, value in items.items():
                if value.get("removed"):
                    section.pop(key, None)
                else:
                    section[key] = value

    def snapshot(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "readings": list(self.state.readings.values()),
            "plans": dict(self.state.plans),
            "alerts": list(self.state.alerts.values()),
            "zones": list(self.state.zones.values()),
        }

    def delta_since(self, version: int) -> dict[str, Any] | None:
        """The batches after `version` merged into one; None when they have left the ring."""
        if version > self.version:
            return None  # a number from an earlier run of the console
        if version == self.version:
            return {"version": version}
        if not self._ring or self._ring[0].version > version + 1:
            return None
        merged: Changes = {}
        for batch in self._ring:
            if batch.version > version:
                for name, items in batch.changes.items():
                    merged.setdefault(name, {}).update(items)
        return {
            "version": self.version,
            **{name: list(items.values()) for name, items in merged.items() if name != "plans"},
            **({"plans": merged["plans"]} if "plans" in merged else {}),
        }

    async def wait_beyond(self, version: int, timeout: float) -> bool:
        """Wait until a batch newer than `version` exists; False on timeout."""
        if self.version > version:
            return True
        try:
            await asyncio.wait_for(self._tick.wait(), timeout)
        except TimeoutError:
            return False
        return True
