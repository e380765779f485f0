"""A charge point as the bridge holds it: its connectors' state, the limits it should hold,
and one task that brings the charger to those limits.

Protocol-neutral: a `StationLink` (the 1.6 or 2.0.1 handler of the live connection) asks
the charger. Limits are set by the bridge at any time (a set-point, a reflex, a new floor)
and the task pushes only what the charger does not hold yet, one call at a time, so a
charger that stops answering holds up no one but itself. On connection and on reboot
everything is pushed again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed

from bridges.ocpp import clock
from bridges.ocpp.profiles import STATION, Capabilities, ChargerConfig, ProfileRequest, request
from bridges.ocpp.registry import ChargePointEntry
from bridges.ocpp.telemetry import ConnectorState

RETRY_AFTER_TIMEOUT_S = 5.0
TRIES_PER_PROFILE = 3
FLOOR_STEP_KW = 0.5  # a floor raised by less is not worth a SetChargingProfile  # the first phrasing, then up to two rephrased after rejections


class StationLink(Protocol):
    """The live OCPP connection of a charge point, whichever version it speaks."""

    version: str

    async def read_config(self) -> ChargerConfig:
        """Ask the charger its smart-charging configuration."""
        ...

    async def set_profile(self, profile: ProfileRequest) -> tuple[str, dict[str, Any]]:
        """Send SetChargingProfile; (status, the charger's whole answer)."""
        ...


class StationEvents(Protocol):
    """What a station reports to the bridge."""

    def profile_rejected(
        self, station: Station, profile: ProfileRequest, answer: dict[str, Any]
    ) -> None: ...

    def profile_accepted(self, station: Station, profile: ProfileRequest) -> None: ...

    def stale_changed(self, station: Station, stale: bool, why: str) -> None: ...


@dataclass(frozen=True)
class Limit:
    """The most a connector may draw until `until` (epoch seconds), and where it comes from."""

    kw: float
    until: float
    origin: str  # the plan's id, or "reflex"
    issued: float  # when the set-point was issued or the reflex struck, epoch seconds


class Station:
    """One charge point: its connectors, the limits it should hold, and their pusher."""

    def __init__(self, entry: ChargePointEntry, events: StationEvents) -> None:
        self.entry = entry
        self.events = events
        self.connectors = {cid: ConnectorState(c) for cid, c in entry.connectors.items()}
        self.limits: dict[int, Limit] = {}
        self.floor_kw: float | None = None
        self.capabilities: Capabilities | None = None
        self.link: StationLink | None = None
        self.stale = False
        self.last_heard = 0.0
        self._held: dict[tuple[str, int], tuple[object, ...]] = {}  # what the charger holds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._heard = False
        self._busy = False  # the pusher is talking to the charger

    @property
    def id(self) -> str:
        return self.entry.id

    # -- the connection ---------------------------------------------------------------

    def attach(self, link: StationLink) -> None:
        """A new connection: what the charger held before is not trusted any more."""
        self.detach()
        self.link = link
        self.capabilities = None
        self._held.clear()
        self._heard = False
        self._busy = False
        self.last_heard = time.monotonic()
        self._task = asyncio.create_task(self._run(link), name=f"ocpp-push-{self.id}")

    def detach(self, link: StationLink | None = None) -> None:
        if link is not None and link is not self.link:
            return  # an older connection closing after a newer one took over
        if self._task is not None:
            self._task.cancel()
        self._task = None
        self.link = None

    def heard_from(self) -> None:
        """The charger sent a message: it is alive, and after its first one it may be asked."""
        self.last_heard = time.monotonic()
        if self.stale:
            self._set_stale(False, "answers again")
        if not self._heard:
            self._heard = True
            self._wake.set()

    def rebooted(self) -> None:
        """BootNotification: a rebooted charger may have lost its profiles."""
        self._held.clear()
        self.heard_from()
        self._wake.set()

    # -- what it should hold -----------------------------------------------------------

    def set_limit(self, connector_id: int, limit: Limit) -> None:
        self.limits[connector_id] = limit
        self._wake.set()

    def set_floor(self, kw: float) -> None:
        """A lower floor is sent at once; a higher one only when it gives a useful step,
        so that every plan does not rewrite every charger's max profile."""
        if self.floor_kw is None or kw < self.floor_kw - 1e-3 or kw > self.floor_kw + FLOOR_STEP_KW:
            self.floor_kw = kw
            self._wake.set()

    def transaction_changed(self) -> None:
        """A transaction started or ended: the connector's limit is phrased anew."""
        self._wake.set()

    def desired(self, now: float) -> list[ProfileRequest]:
        """Every profile the charger should hold now, in its own terms."""
        caps = self.capabilities
        if caps is None:
            return []
        wanted: list[ProfileRequest] = []
        first = next(iter(self.entry.connectors.values()))
        if self.floor_kw is not None:
            wanted.append(
                request(
                    caps,
                    "max",
                    STATION,
                    self.floor_kw,
                    now=now,
                    until=None,
                    phases=first.device.phases,
                    voltage_v=first.device.voltage_v,
                )
            )
        for connector_id, limit in list(self.limits.items()):
            if limit.until <= now:
                del self.limits[connector_id]  # lapsed: the charger's profile lapsed too
                continue
            state = self.connectors[connector_id]
            transaction = state.transaction_id
            if transaction is None and not caps.takes_tx_default:
                continue  # pushed as a TxProfile when a transaction starts
            wanted.append(
                request(
                    caps,
                    "tx" if transaction is not None else "tx_default",
                    connector_id,
                    limit.kw,
                    now=now,
                    until=limit.until,
                    transaction_id=transaction,
                    phases=state.connector.device.phases,
                    voltage_v=state.connector.device.voltage_v,
                )
            )
        return wanted

    def settled(self) -> bool:
        """The pusher has nothing left to send: every profile wanted now is held (or was
        answered). A charger not heard from yet is not asked anything, so it is settled."""
        if not self._heard:
            return True
        if self._wake.is_set() or self._busy or self.capabilities is None:
            return False
        return all(
            self._held.get((p.purpose, p.connector_id)) == _fingerprint(p)
            for p in self.desired(clock.now())
        )

    # -- the pusher ----------------------------------------------------------------------

    async def _run(self, link: StationLink) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._heard:
                continue  # a charger is asked nothing before its first message
            self._busy = True
            try:
                await self._sync(link)
            except TimeoutError:
                self._set_stale(True, "a call timed out")
                await asyncio.sleep(RETRY_AFTER_TIMEOUT_S)
                self._wake.set()
            except ConnectionClosed:
                return
            finally:
                self._busy = False

    async def _sync(self, link: StationLink) -> None:
        if self.capabilities is None:
            config = await link.read_config()
            self.capabilities = Capabilities(config, set(self.entry.quirks))
        for profile in self.desired(clock.now()):
            key = (profile.purpose, profile.connector_id)
            fingerprint = _fingerprint(profile)
            if self._held.get(key) != fingerprint:
                await self._send(link, profile)
                # Whatever the answer, this phrasing is settled: it is not sent again
                # until the limit changes (a rejection is dead-lettered and alerted).
                self._held[key] = fingerprint

    async def _send(self, link: StationLink, profile: ProfileRequest) -> None:
        caps = self.capabilities
        assert caps is not None
        for _ in range(TRIES_PER_PROFILE):
            status, answer = await link.set_profile(profile)
            if self.stale:
                self._set_stale(False, "answers again")
            if status == "Accepted":
                caps.accepted(profile)
                self.events.profile_accepted(self, profile)
                return
            self.events.profile_rejected(self, profile, answer)
            if not caps.learn_from_rejection(profile):
                return
            if profile.purpose == "tx_default" and not caps.takes_tx_default:
                return
            profile = dataclasses.replace(profile, unit=caps.unit, stack_level=caps.stack_level)

    def mark_stale(self, why: str) -> None:
        self._set_stale(True, why)

    def _set_stale(self, stale: bool, why: str) -> None:
        self.stale = stale
        self.events.stale_changed(self, stale, why)


def _fingerprint(profile: ProfileRequest) -> tuple[object, ...]:
    """What makes two requests the same to the charger (not their start or duration left)."""
    end = None if profile.duration_s is None else math.floor(profile.start) + profile.duration_s
    return (round(profile.limit_kw, 3), end, profile.transaction_id)
