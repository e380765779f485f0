"""One GBFS system polled: auto-discovery, then station information and status, each file
at its own `ttl`, with backoff after failures; each station status becomes a reading.

A file is used only once it is whole and valid against its version's schema. One that
is not goes to the dead letters (once per distinct content) and the last valid one stays
in force: stations are never updated from half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bridges.gbfs import feeds, validation
from bridges.gbfs.config import GbfsSource
from bridges.gbfs.fetch import Fetcher, FetchError
from bridges.gbfs.placement import discovered_station
from bridges.publish import Publisher, redact
from territory.discovered import DiscoveredDevice, load_discovered, save_discovered
from territory.inventory import Inventory
from territory.readings import RejectReason

log = logging.getLogger(__name__)

SOURCE = "gbfs"
_USER_AGENT = "soft-territory-gbfs/0.1"
# A discovered station's last_seen is rewritten at most this often when nothing else changed.
_REFRESH_SEEN = timedelta(hours=1)


@dataclass
class FeedState:
    """One file of the system: where it is, when to read it next, the last valid copy."""

    name: str
    fetcher: Fetcher
    due: float = 0.0
    failures: int = 0
    document: dict[str, Any] | None = None
    refused_sha: str | None = None


@dataclass
class PollReport:
    """What one poll did, for logs, `--once` and tests."""

    read: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    published: int = 0
    refused: int = 0
    discovered: int = 0


class GbfsPoller:
    """Reads one system and publishes its stations' readings."""

    def __init__(
        self,
        source: GbfsSource,
        publisher: Publisher,
        inventory: Inventory | None,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.inventory = inventory
        self.clock = clock
        self.client = client or httpx.Client(
            timeout=source.timeout_s, follow_redirects=True, headers={"User-Agent": _USER_AGENT}
        )
        self.discovery = FeedState("gbfs", Fetcher(source.feed, source.max_file_bytes))
        self.feeds: dict[str, FeedState] = {}
        self.version: str | None = None
        self.infos: dict[str, feeds.StationInfo] = {}
        self.discovered: dict[str, DiscoveredDevice] = {}
        self._sent: dict[str, float] = {}  # station_id → last_reported published

    def next_due(self) -> float:
        return min([self.discovery.due, *(state.due for state in self.feeds.values())])

    def poll(self) -> PollReport:
        """Read every file that is due, in order, and publish what changed."""
        report = PollReport()
        if self.discovery.due <= self.clock():
            document = self._read(self.discovery, report)
            if document is not None:
                self._discovered_feeds(document)
        if self.version is None:
            return report
        information = self.feeds.get("station_information")
        if information is not None and information.due <= self.clock():
            document = self._read(information, report)
            if document is not None:
                self.infos = feeds.station_infos(document, self.source.language)
                self._note_discovered()
        status = self.feeds.get("station_status")
        if status is not None and status.due <= self.clock():
            document = self._read(status, report)
            if document is not None:
                self._publish(feeds.station_statuses(document), status, report)
        report.discovered = len(self.discovered)
        return report

    def close(self) -> None:
        self.client.close()

    # -- files -----------------------------------------------------------------

    def _read(self, state: FeedState, report: PollReport) -> dict[str, Any] | None:
        """A new valid copy of the file, or None (unchanged, unreachable or refused)."""
        now = self.clock()
        try:
            body = state.fetcher.fetch(self.client)
        except FetchError as exc:
            report.failed[state.name] = str(exc)
            self._back_off(state, now, str(exc))
            return None
        if body is None:
            report.unchanged.append(state.name)
            state.due = now + self._interval(state.document)
            return None
        problem, document = self._check(state, body)
        if problem is not None:
            reason, detail = problem
            report.failed[state.name] = detail
            state.fetcher.forget()
            self._refuse(state, reason, detail, body, report)
            self._back_off(state, now, detail)
            return None
        state.document, state.failures, state.refused_sha = document, 0, None
        state.due = now + self._interval(document)
        report.read.append(state.name)
        return document

    def _check(
        self, state: FeedState, body: bytes
    ) -> tuple[tuple[RejectReason, str] | None, dict[str, Any]]:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            return (RejectReason.INVALID_JSON, f"{state.name}.json: not JSON: {exc}"), {}
        if not isinstance(document, dict):
            return (RejectReason.SCHEMA_INVALID, f"{state.name}.json: not a JSON object"), {}
        version = feeds.version_of(document) if state.name == "gbfs" else self.version
        try:
            message = validation.problem(version or "", state.name, document)
        except validation.UnknownVersion as exc:
            message = f"{state.name}.json: {exc}"
        if message is not None:
            return (RejectReason.SCHEMA_INVALID, message), {}
        return None, document

    def _refuse(
        self, state: FeedState, reason: RejectReason, detail: str, body: bytes, report: PollReport
    ) -> None:
        """Dead-letter a refused file once per distinct content: a feed that stays broken
        is not stored again at every poll."""
        report.refused += 1
        digest = hashlib.sha256(body).hexdigest()
        if digest == state.refused_sha:
            return
        state.refused_sha = digest
        self.publisher.reject(reason, detail, redact(state.fetcher.url), body)

    def _interval(self, document: dict[str, Any] | None) -> float:
        ttl = float(document.get("ttl", 0)) if document else 0.0
        return max(ttl, self.source.min_interval_s)

    def _back_off(self, state: FeedState, now: float, why: str) -> None:
        state.failures += 1
        base = max(self.source.min_interval_s, 1.0)
        delay = min(self.source.max_backoff_s, base * 2 ** (state.failures - 1))
        state.due = now + delay
        log.warning("%s: %s; next try in %.0f s", self.source.system, why, delay)

    def _discovered_feeds(self, document: dict[str, Any]) -> None:
        found = feeds.discovery(document, self.source.language)
        self.version = found.version
        for name in ("station_information", "station_status"):
            url = found.feeds.get(name)
            current = self.feeds.get(name)
            if url is None:
                self.feeds.pop(name, None)
            elif current is None or current.fetcher.url != url:
                self.feeds[name] = FeedState(name, Fetcher(url, self.source.max_file_bytes))

    # -- stations --------------------------------------------------------------

    def _publish(
        self, statuses: Iterable[feeds.StationStatus], state: FeedState, report: PollReport
    ) -> None:
        origin = redact(state.fetcher.url)
        for status in statuses:
            if self._sent.get(status.station_id) == status.last_reported:
                continue  # not reported again since the last reading
            where = self._where(status.station_id)
            if where is None:
                continue
            zone, device_id, capacity = where
            published = self.publisher.reading(
                zone,
                "bike_station",
                device_id,
                feeds.reading(status, capacity),
                origin=f"{origin}#{status.station_id}",
                original=status.record,
            )
            # Refused or not, this report is settled: a stale station is dead-lettered once.
            self._sent[status.station_id] = status.last_reported
            if published:
                report.published += 1
            else:
                report.refused += 1

    def _where(self, station_id: str) -> tuple[str, str, int | None] | None:
        """(zone, device id, capacity) to publish a station under, or None to hold it back."""
        info = self.infos.get(station_id)
        device_id = self.source.device_id(station_id)
        device = self.inventory.device(device_id) if self.inventory is not None else None
        if device is not None:
            if device.kind != "bike_station":
                log.warning("%s: inventory device %s is a %s", station_id, device_id, device.kind)
                return None
            declared = info.capacity if info is not None else None
            return device.zone, device_id, declared if declared is not None else device.capacity
        found = self.discovered.get(station_id)
        if found is not None and self.source.publish_discovered:
            return found.device.zone, device_id, info.capacity if info else None
        return None

    def _note_discovered(self) -> None:
        """List the stations the inventory lacks, in the discovered-devices file."""
        now = datetime.now(UTC)
        listed = {}
        for info in self.infos.values():
            device_id = self.source.device_id(info.station_id)
            if self.inventory is not None and self.inventory.device(device_id) is not None:
                continue
            listed[info.station_id] = discovered_station(info, self.source, self.inventory, now)
        self.discovered = listed
        self._save_discovered(now)

    def _save_discovered(self, now: datetime) -> None:
        path = self.source.discovered_file
        book = load_discovered(path)
        ours = redact(self.source.feed)
        before = {d.external_id: d for d in book.devices if d.source == ours}
        changed = set(before) != set(self.discovered)
        for station_id, found in self.discovered.items():
            previous = before.get(station_id)
            if previous is None:
                continue
            found.first_seen = previous.first_seen
            same = found.model_dump(exclude={"first_seen", "last_seen"}) == previous.model_dump(
                exclude={"first_seen", "last_seen"}
            )
            if same and now - previous.last_seen < _REFRESH_SEEN:
                found.last_seen = previous.last_seen
            else:
                changed = True
        if not changed:
            return
        book.devices = [d for d in book.devices if d.source != ours] + list(
            self.discovered.values()
        )
        save_discovered(path, book)
        log.info(
            "%s: %d stations not in the inventory, listed in %s", ours, len(self.discovered), path
        )


def run_pollers(pollers: list[GbfsPoller], stop: threading.Event) -> None:
    """Poll every system at its files' own pace until `stop` is set."""
    while not stop.is_set():
        for poller in pollers:
            if poller.next_due() <= poller.clock():
                report = poller.poll()
                if report.published or report.failed:
                    log.info(
                        "%s: %d readings, %d refused, failed: %s",
                        poller.source.system,
                        report.published,
                        report.refused,
                        ", ".join(report.failed) or "none",
                    )
        wait = min(poller.next_due() - poller.clock() for poller in pollers)
        stop.wait(min(max(wait, 0.05), 60.0))
