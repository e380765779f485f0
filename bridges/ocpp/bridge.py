"""The bridge: every charge point's station, the feeders they hang on, and the broker.

Runs on one asyncio loop. Readings go out on each connector's own telemetry topic;
set-points come in on its `cmd` topic and become limits on its station; feeder readings
feed the floor of safety (the base load it leaves room for) and trigger the reflex when a
feeder is over its inventory limit. A rejected profile is dead-lettered with the
charger's answer and raises an alert; so does a charge point that stops answering.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridges.ocpp import clock
from bridges.ocpp.feeders import BaseLoad, DrawHistory, floor_shares, reflex_limits
from bridges.ocpp.profiles import STATION, ProfileRequest
from bridges.ocpp.registry import FeederEntry, Registry
from bridges.ocpp.setpoints import SetpointError, parse_setpoint
from bridges.ocpp.station import Limit, Station
from bridges.ocpp.telemetry import CLOCK_SKEW_S, ConnectorState
from territory import topics
from territory.readings import RejectReason
from territory.rejects import reject_message

log = logging.getLogger(__name__)
ALERTS = topics.alert("ocpp")
STATUS_TOPIC = f"{topics.ROOT}/bridges/ocpp/status"
FLOOR_REVISION_DELAY_S = 0.5
# A feeder reading taken after a connector's limit rose and before the charger reported
# again is no base-load sample (the new draw would count as base load), for this long.
BASE_UNSURE_S = 120.0

Publish = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class BridgeSettings:
    """How the bridge behaves; the limits themselves come from the inventory."""

    heartbeat_s: int = 300  # interval given to charge points in BootNotification
    call_timeout_s: float = 10.0  # a call to a charger unanswered after this times out
    reflex_hold_s: float = 120.0  # how long a reflex limit holds if no new plan comes
    reflex_margin: float = 0.05  # share of the limit the reflex leaves free
    floor_revision_share: float = 0.05  # base load rise (share of the limit) that revises floors
    stale_after_heartbeats: float = 3.0  # silent for this many heartbeats: stale
    floor_revision_delay_s: float = FLOOR_REVISION_DELAY_S  # a plan's set-points gathered
    base_unsure_s: float = BASE_UNSURE_S  # a raised limit not yet reported on: skip samples


class Bridge:
    """Stations, feeders and the broker, tied together."""

    def __init__(self, registry: Registry, publish: Publish, settings: BridgeSettings) -> None:
        self.registry = registry
        self.publish = publish
        self.settings = settings
        self.stations = {
            cp_id: Station(entry, self) for cp_id, entry in registry.charge_points.items()
        }
        self.base = {feeder_id: BaseLoad() for feeder_id in registry.feeders}
        self.draws = {device_id: DrawHistory() for device_id in registry.by_device}
        self._floor_base = dict.fromkeys(registry.feeders, 0.0)
        self.planned: dict[str, Limit] = {}  # device id → the set-point in force
        self.shares: dict[str, float] = {}  # device id → its floor share, kW
        self._floors_due: set[str] = set()
        self._told: dict[str, float] = {}  # device id → start of the assumed session logged
        self._floor_timer: asyncio.TimerHandle | None = None
        self.counts: Counter[str] = Counter()
        self.revise_floors(list(registry.feeders.values()))

    # -- telemetry out -------------------------------------------------------------------

    def publish_reading(self, state: ConnectorState) -> None:
        device = state.connector.device
        reading = state.reading()
        self.draws[device.id].add(reading["ts"], reading["powerConsumption"])
        self.publish(topics.telemetry(device.zone, "ev_charger", device.id), reading)
        self.counts["readings"] += 1
        session = state.session
        if session is not None and session.assumed and self._told.get(device.id) != session.started:
            self._told[device.id] = session.started
            log.info(
                "%s: the vehicle says nothing of its needs; assumed %.1f kWh by %s (inventory)",
                device.id,
                session.wanted_kwh,
                time.strftime("%H:%M", time.localtime(session.departure)),
            )

    # -- set-points in -------------------------------------------------------------------

    def on_command(self, topic: str, payload: bytes | bytearray) -> None:
        where = topics.parse_device_topic(topic, suffix="cmd")
        connector = self.registry.by_device.get(where.device_id) if where else None
        if connector is None:
            return  # a charger of the twin, or of another bridge
        try:
            setpoint = parse_setpoint(payload)
        except SetpointError as exc:
            self._dead_letter(RejectReason.INVALID_SETPOINT, topic, bytes(payload), str(exc))
            return
        now = clock.now()
        current = self.stations[connector.charge_point_id].limits.get(connector.connector_id)
        if setpoint.valid_until <= now or (current is not None and setpoint.ts < current.issued):
            self.counts["setpoints_outdated"] += 1
            return
        limit = Limit(
            kw=min(setpoint.setpoint, connector.max_power_kw),
            until=setpoint.valid_until,
            origin=setpoint.plan or "plan",
            issued=setpoint.ts,
        )
        self.counts["setpoints"] += 1
        self.planned[connector.device_id] = limit
        self.stations[connector.charge_point_id].set_limit(connector.connector_id, limit)
        self._revise_soon(connector.feeder)

    # -- feeders -------------------------------------------------------------------------

    def on_feeder_reading(self, topic: str, payload: bytes | bytearray) -> None:
        where = topics.parse_device_topic(topic)
        feeder = self.registry.feeders.get(where.device_id) if where else None
        if feeder is None:
            return
        try:
            reading = json.loads(payload)
            feeder_kw = float(reading["activePower"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return  # ingest dead-letters it; the bridge only acts on sound readings
        now = clock.now()
        self._base_sample(feeder, feeder_kw, _reading_time(reading, now), now)
        rise = self.base[feeder.id].peak_kw - self._floor_base[feeder.id]
        if abs(rise) > self.settings.floor_revision_share * feeder.limit_kw:
            self.revise_floors([feeder])
        self.reflex(feeder, feeder_kw, self._drawing(feeder), now)

    def _base_sample(
        self, feeder: FeederEntry, feeder_kw: float, measured: float, now: float
    ) -> None:
        """The feeder less what its connectors drew when it was measured, unless one of them
        may draw more than it said (its limit rose since it last reported)."""
        draws = [self.draws[c.device_id] for c in feeder.connectors]
        if any(d.unsure_at(measured, self.settings.base_unsure_s) for d in draws):
            self.counts["base_samples_unsure"] += 1
            return
        self.base[feeder.id].add(now, feeder_kw - sum(d.at(measured) for d in draws))

    def reflex(
        self, feeder: FeederEntry, feeder_kw: float, drawing: dict[str, float], now: float
    ) -> int:
        """Corrective limits at once on an overloaded feeder; how many connectors got lower."""
        limits = reflex_limits(feeder, feeder_kw, drawing, self.settings.reflex_margin)
        if limits is None:
            return 0
        lowered = 0
        for connector in feeder.connectors:
            station = self.stations[connector.charge_point_id]
            current = station.limits.get(connector.connector_id)
            kw = limits[connector.device_id]
            if current is not None and current.until > now and current.kw <= kw:
                continue  # already held at least this low
            station.set_limit(
                connector.connector_id,
                Limit(kw=kw, until=now + self.settings.reflex_hold_s, origin="reflex", issued=now),
            )
            lowered += 1
        if lowered:
            self.counts["reflexes"] += 1
            log.warning(
                "feeder %s at %.1f kW over its %.1f kW limit: %d connectors lowered at once",
                feeder.id,
                feeder_kw,
                feeder.limit_kw,
                lowered,
            )
        return lowered

    def _revise_soon(self, feeder_id: str) -> None:
        """A plan's set-points arrive one by one: the floors are revised once they are in."""
        self._floors_due.add(feeder_id)
        if self._floor_timer is None:
            loop = asyncio.get_running_loop()
            delay = self.settings.floor_revision_delay_s
            self._floor_timer = loop.call_later(delay, self._revise_due)

    def _revise_due(self) -> None:
        due, self._floors_due, self._floor_timer = self._floors_due, set(), None
        self.revise_floors([self.registry.feeders[f] for f in sorted(due)])

    def revise_floors(self, feeders: list[FeederEntry]) -> None:
        """Share each feeder's EV allowance again, and set every station's max profile."""
        now = clock.now()
        touched: set[str] = set()
        for feeder in feeders:
            base = self.base[feeder.id].peak_kw
            self._floor_base[feeder.id] = base
            planned = {
                c.device_id: self.planned[c.device_id].kw
                for c in feeder.connectors
                if c.device_id in self.planned and self.planned[c.device_id].until > now
            }
            self.shares |= floor_shares(feeder, base, planned)
            touched |= {c.charge_point_id for c in feeder.connectors}
        for cp_id in touched:
            station = self.stations[cp_id]
            station.set_floor(
                sum(self.shares.get(c.device_id, 0.0) for c in station.entry.connectors.values())
            )

    def _drawing(self, feeder: FeederEntry) -> dict[str, float]:
        return {
            c.device_id: self.stations[c.charge_point_id].connectors[c.connector_id].power_kw
            for c in feeder.connectors
        }

    # -- what stations report ------------------------------------------------------------

    def profile_accepted(self, station: Station, profile: ProfileRequest) -> None:
        self.counts[f"profiles_accepted_{profile.purpose}"] += 1
        now = clock.now()
        end = None if profile.duration_s is None else profile.start + profile.duration_s
        for connector_id, connector in station.entry.connectors.items():
            if profile.connector_id in (STATION, connector_id):
                self.draws[connector.device_id].accepted(
                    profile.purpose, profile.limit_kw, now, end
                )

    def profile_rejected(
        self, station: Station, profile: ProfileRequest, answer: dict[str, Any]
    ) -> None:
        self.counts["profiles_rejected"] += 1
        detail = f"{station.id} rejected a {profile.purpose} profile"
        sent = profile.v16() if station.link and station.link.version == "1.6" else profile.v201()
        self._dead_letter(
            RejectReason.PROFILE_REJECTED,
            f"ocpp://{station.id}/{profile.connector_id}",
            json.dumps({"profile": sent, "answer": answer}, default=str).encode(),
            detail,
        )
        self._alert("profile_rejected", station.id, f"{detail}: {answer.get('status')}")

    def stale_changed(self, station: Station, stale: bool, why: str) -> None:
        self.counts["stale" if stale else "answering_again"] += 1
        self._alert("stale" if stale else "answering", station.id, f"{station.id} {why}")

    def settled(self) -> bool:
        """No floor revision pending and every connected charger holds what it should: what a
        simulation on a virtual clock waits for before letting time pass."""
        return self._floor_timer is None and all(
            s.settled() for s in self.stations.values() if s.link is not None
        )

    def check_silence(self, now: float) -> None:
        """A connected charge point silent for several heartbeats is reported stale
        (`now` on the monotonic clock)."""
        silent_after = self.settings.stale_after_heartbeats * self.settings.heartbeat_s
        for station in self.stations.values():
            if (
                station.link is not None
                and not station.stale
                and now - station.last_heard > silent_after
            ):
                station.mark_stale(f"silent for {now - station.last_heard:.0f} s")

    def status(self) -> dict[str, Any]:
        return {
            "ts": round(clock.now(), 3),
            "connected": sum(s.link is not None for s in self.stations.values()),
            "charge_points": len(self.stations),
            "stale": sorted(s.id for s in self.stations.values() if s.stale),
            "counts": dict(self.counts),
        }

    def _dead_letter(self, reason: RejectReason, origin: str, payload: bytes, detail: str) -> None:
        """Sent to ingest, which keeps it in the dead-letter table like any refused message
        (`territory.rejects`): the bridge itself writes no store."""
        self.counts[f"deadletter_{reason.value}"] += 1
        topic, body = reject_message("ocpp", reason, detail, origin, payload)
        self.publish(topic, json.loads(body))
        log.warning("dead letter %s: %s", reason.value, detail)

    def _alert(self, rule: str, charge_point: str, message: str) -> None:
        self.publish(
            ALERTS,
            {
                "ts": round(clock.now(), 3),
                "rule": rule,
                "charge_point": charge_point,
                "message": message,
            },
        )
        log.warning("alert %s: %s", rule, message)


def _reading_time(reading: Any, now: float) -> float:
    """When the feeder reading was measured (its `ts`), or `now` when it says nothing sound
    or its clock is far from ours."""
    ts = reading.get("ts")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        return now
    return float(ts) if abs(ts - now) <= CLOCK_SKEW_S else now
