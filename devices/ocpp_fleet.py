"""The twin's chargers as OCPP charge points (`territory simulate --ocpp URL`).

Each charger the fleet drives is a simulated charge point (`devices.chargepoints`, the
`ocpp` package's own client classes) connected to the bridge. When the twin's schedule
says a charger reports, the charger does not publish: the fleet tells its charge point
what happened since it last spoke (a vehicle left: StopTransaction or TransactionEvent
Ended; a vehicle came: StartTransaction or TransactionEvent Started, and for 2.0.1 the
vehicle's needs by NotifyEVChargingNeeds; the vehicle started or stopped drawing; its meter
values), and the bridge publishes the reading. Every message carries the twin's stamp.

Back the other way, the charging profiles each charge point holds limit what its vehicle
draws: the twin's charger asks its charge point (`ChargerState.limiter`) at every step.

The charge points live on an asyncio loop in a thread of their own. The twin's thread only
hands over snapshots: the newest one per charger replaces one not yet told, so a slow
bridge costs intermediate meter values, never the twin's pace. `flush` waits until every
snapshot has been told (a compare run on a virtual clock calls it before each decision).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from devices.chargepoints import Connector, SimulatedStation, Station16, Station201
from devices.clock import Clock
from devices.energy import ChargerState
from devices.ocpp_points import CONNECTOR_ID, PointModel

log = logging.getLogger(__name__)
CONNECTING_AT_ONCE = 50
RECONNECT_AFTER_S = 5.0
T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """A charger as it was when it was due to report."""

    stamp: float
    session: float | None  # the departure stamp of the vehicle plugged: names its session
    power_kw: float
    delivered_kwh: float
    remaining_kwh: float

    @classmethod
    def of(cls, charger: ChargerState, stamp: float, clock: Clock) -> Snapshot:
        return cls(
            stamp=stamp,
            session=clock.stamp(charger.departure) if charger.plugged else None,
            power_kw=charger.power_kw,
            delivered_kwh=charger.delivered_kwh,
            remaining_kwh=charger.remaining_kwh,
        )


@dataclass
class _Point:
    """One charge point, what the bridge has been told, and the snapshot waiting."""

    charger: ChargerState
    station: SimulatedStation
    password: str
    session: float | None = None
    charging: bool | None = None
    pending: Snapshot | None = None
    connected: bool = False
    retry_at: float = 0.0


class ChargePointFleet:
    """The twin's OCPP chargers and the asyncio loop they live on."""

    def __init__(
        self,
        chargers: list[ChargerState],
        models: dict[str, PointModel],
        passwords: Callable[[str], str],
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ocpp-fleet", daemon=True)
        self.points: dict[str, _Point] = {}
        for charger in chargers:
            model = models.get(charger.device_id)
            if model is None:
                continue
            kind = Station201 if model.version == "2.0.1" else Station16
            station = kind(
                model.charge_point_id,
                {CONNECTOR_ID: Connector(max_kw=charger.max_kw)},
                model.behaviour(),
            )
            self.points[charger.device_id] = _Point(
                charger, station, passwords(model.charge_point_id)
            )
        self.counts: Counter[str] = Counter()
        self.url = ""
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # nothing waiting to be told
        self._idle.set()
        self._after: list[Callable[[], None]] = []  # run once the snapshots before them are told
        self._worker: asyncio.Task[None] | None = None

    # -- the twin's thread -----------------------------------------------------------------

    def start(self, url: str) -> None:
        """Start the loop, then connect (see `connect`)."""
        self.start_loop()
        self.connect(url)

    def start_loop(self) -> None:
        self.thread.start()

    def connect(self, url: str) -> None:
        """Connect and boot every charge point (OSError if the bridge refuses or cannot be
        reached), and let their profiles limit the chargers."""
        self.url = url
        self.run(self._connect_all())
        for point in self.points.values():
            point.charger.limiter = self._limiter(point.station)
        self._worker = self.run(self._start_worker())

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 120.0) -> T:
        """Run a coroutine on the fleet's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def drives(self, device_id: str) -> bool:
        return device_id in self.points

    def report(self, charger: ChargerState, stamp: float) -> None:
        snapshot = Snapshot.of(charger, stamp, self.clock)
        self.loop.call_soon_threadsafe(self._hand_over, charger.device_id, snapshot)

    def after_reports(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the fleet's loop once the snapshots handed over so far are told
        (a feeder reading reaches the bridge after its chargers' readings, as it would if
        they all reported at once)."""
        self.loop.call_soon_threadsafe(self._hand_over_after, callback)

    def flush(self) -> None:
        """Wait until every snapshot handed over has been told to the bridge."""
        self.run(self._flushed())

    def close(self) -> None:
        self.close_points()
        self.stop_loop()

    def close_points(self) -> None:
        if self.thread.is_alive():
            self.run(self._close_all(), timeout=30)

    def stop_loop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    # -- the fleet's loop -------------------------------------------------------------------

    async def _connect_all(self) -> None:
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def one(point: _Point) -> None:
            async with gate:
                await self._connect(point)

        await asyncio.gather(*(one(p) for p in self.points.values()))

    async def _connect(self, point: _Point) -> None:
        await point.station.connect(self.url, point.password)
        await point.station.boot()
        # Told from scratch: the bridge knows nothing of this connection's sessions.
        point.session, point.charging, point.connected = None, None, True
        await point.station.status(
            CONNECTOR_ID, "Available", self.clock.stamp(self.clock.sim_now())
        )
        self.counts["connected"] += 1

    async def _start_worker(self) -> asyncio.Task[None]:
        return asyncio.create_task(self._work(), name="ocpp-fleet-worker")

    def _hand_over_after(self, callback: Callable[[], None]) -> None:
        if self._idle.is_set():
            callback()
            return
        self._after.append(callback)

    def _hand_over(self, device_id: str, snapshot: Snapshot) -> None:
        point = self.points[device_id]
        if point.pending is not None:
            self.counts["snapshots_replaced"] += 1
        point.pending = snapshot
        self._idle.clear()
        self._wake.set()

    async def _work(self) -> None:
        """Tell every waiting snapshot, charge points side by side; then wait for more."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            due = [p for p in self.points.values() if p.pending is not None]
            waiting, self._after = self._after, []
            await asyncio.gather(*(self._tell_pending(p) for p in due))
            for callback in waiting:
                callback()
            if not any(p.pending is not None for p in self.points.values()):
                waiting, self._after = self._after, []
                for callback in waiting:  # handed over while the round ran
                    callback()
                self._idle.set()
            else:
                self._wake.set()

    async def _tell_pending(self, point: _Point) -> None:
        snapshot, point.pending = point.pending, None
        assert snapshot is not None
        try:
            if not point.connected:
                if self.loop.time() < point.retry_at:
                    return
                await self._connect(point)
            await self._tell(point, snapshot)
            self.counts["told"] += 1
        except Exception as exc:  # a lost bridge must not stop the twin: reconnect later
            point.connected = False
            point.retry_at = self.loop.time() + RECONNECT_AFTER_S
            self.counts["failed"] += 1
            log.warning("%s: could not tell the bridge (%s)", point.station.id, exc)

    async def _tell(self, point: _Point, snapshot: Snapshot) -> None:
        station, ts = point.station, snapshot.stamp
        connector = station.connectors[CONNECTOR_ID]
        connector.energy_wh = snapshot.delivered_kwh * 1000.0
        if point.session is not None and point.session != snapshot.session:
            if connector.transaction_id is not None:
                await station.unplug(CONNECTOR_ID, ts)
            else:
                await station.status(CONNECTOR_ID, "Available", ts)
            point.session, point.charging = None, None
        if snapshot.session is None:
            return
        if point.session is None:
            await station.plug_in(
                CONNECTOR_ID,
                point.charger.max_kw,
                needs_kwh=snapshot.remaining_kwh,
                departure=snapshot.session,
                ts=ts,
            )
            point.session, point.charging = snapshot.session, True
        charging = snapshot.power_kw > 0
        if charging != point.charging:
            await station.charging(CONNECTOR_ID, charging, ts)
            point.charging = charging
        await station.send_meter(CONNECTOR_ID, snapshot.power_kw, ts, state=None)

    async def _flushed(self) -> None:
        # Snapshots handed over before this call are already on the loop (callbacks run in
        # order): idle is clear until the worker has told them all.
        await self._idle.wait()

    async def _close_all(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        await asyncio.gather(*(p.station.close() for p in self.points.values()))

    def _limiter(self, station: SimulatedStation) -> Callable[[float], float | None]:
        """What the charge point's profiles allow at a simulated time, kW."""
        connector = station.connectors[CONNECTOR_ID]
        profiles = station.profiles

        def limit(t: float) -> float | None:
            now = self.clock.stamp(t)
            kw = profiles.connector_limit_kw(CONNECTOR_ID, connector, now)
            cap = profiles.station_max_kw(now)
            return kw if cap is None else min(kw, cap)

        return limit
