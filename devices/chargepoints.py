"""Simulated charge points built from the `ocpp` package's own client classes: real OCPP
1.6J and 2.0.1 peers over real websockets, with a vehicle on each connector drawing what
the profiles they received allow.

They keep every SetChargingProfile they receive, answer as their quirks say, and compute
their limits from the profiles as a charger would (station max profile, then TxProfile
over TxDefaultProfile, each within its schedule's start and duration).

The twin's chargers speak through them (`devices.ocpp_fleet`), stamping every message
with the twin's clock (`ts`); the bridge's tests drive them directly, on the wall clock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.charge_point import ChargePoint
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect

MAX_PURPOSES = ("ChargePointMaxProfile", "ChargingStationMaxProfile")


def iso(ts: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    """One SetChargingProfile as the charger received it, and its answer."""

    at: float  # time.monotonic()
    connector_id: int
    purpose: str
    stack_level: int
    unit: str
    limit: float
    number_phases: int | None
    start: float
    duration: float | None
    transaction_id: str | None
    accepted: bool


@dataclass
class Behaviour:
    """How a simulated charger is configured and what it gets wrong."""

    max_stack_level: int = 3
    rate_units: str = "Current,Power"
    watts_only: bool = False  # rejects amps
    amps_only: bool = False  # rejects watts
    rejects_tx_default: bool = False
    stack_level_zero: bool = False  # rejects any stack level above 0
    power_measurand: bool = True  # sends Power.Active.Import (else only the register)
    silent: bool = False  # never answers the central system's calls
    phases: int = 3
    voltage: float = 230.0


@dataclass
class Connector:
    max_kw: float
    demand_kw: float = 0.0  # what the plugged vehicle would draw uncontrolled
    transaction_id: str | None = None
    energy_wh: float = 0.0


@dataclass
class Profiles:
    """The profiles a charger holds, and the limits they make."""

    held: dict[tuple[int, str], Received] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    behaviour: Behaviour = field(default_factory=Behaviour)

    def answer(self, item: Received) -> bool:
        b = self.behaviour
        ok = not (
            (b.watts_only and item.unit == "A")
            or (b.amps_only and item.unit == "W")
            or (b.rejects_tx_default and item.purpose == "TxDefaultProfile")
            or (b.stack_level_zero and item.stack_level > 0)
        )
        item.accepted = ok
        self.received.append(item)
        if ok:
            self.held[(item.connector_id, item.purpose)] = item
        return ok

    def kw(self, item: Received) -> float:
        if item.unit == "W":
            return item.limit / 1000.0
        phases = item.number_phases or self.behaviour.phases
        return item.limit * phases * self.behaviour.voltage / 1000.0

    def active(self, item: Received | None, now: float) -> bool:
        if item is None or now < item.start:
            return False
        return item.duration is None or now < item.start + item.duration

    def station_max_kw(self, now: float) -> float | None:
        found = [self.held.get((0, p)) for p in MAX_PURPOSES]
        limits = [self.kw(p) for p in found if p is not None and self.active(p, now)]
        return min(limits) if limits else None

    def connector_limit_kw(self, connector_id: int, connector: Connector, now: float) -> float:
        tx = self.held.get((connector_id, "TxProfile"))
        if tx is not None and tx.transaction_id != connector.transaction_id:
            tx = None
        chosen = tx if self.active(tx, now) else self.held.get((connector_id, "TxDefaultProfile"))
        limit = self.kw(chosen) if self.active(chosen, now) and chosen else connector.max_kw
        return min(limit, connector.max_kw)

    def draws(self, connectors: dict[int, Connector], now: float) -> dict[int, float]:
        """What each vehicle draws at `now` under the profiles held."""
        wanted = {
            cid: min(c.demand_kw, self.connector_limit_kw(cid, c, now)) if c.transaction_id else 0.0
            for cid, c in connectors.items()
        }
        cap = self.station_max_kw(now)
        total = sum(wanted.values())
        if cap is not None and total > cap:
            return {cid: kw * cap / total for cid, kw in wanted.items()}
        return wanted

    def forget(self, connector_id: int, purpose: str) -> None:
        self.held.pop((connector_id, purpose), None)


def _parse_time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _received(connector_id: int, profile: dict[str, Any], schedule: dict[str, Any]) -> Received:
    period = schedule["charging_schedule_period"][0]
    transaction = profile.get("transaction_id")
    return Received(
        at=time.monotonic(),
        connector_id=connector_id,
        purpose=profile["charging_profile_purpose"],
        stack_level=profile["stack_level"],
        unit=schedule["charging_rate_unit"],
        limit=float(period["limit"]),
        number_phases=period.get("number_phases"),
        start=_parse_time(schedule["start_schedule"]),
        duration=schedule.get("duration"),
        transaction_id=None if transaction is None else str(transaction),
        accepted=False,
    )


def _meter_value(ts: float | None, sampled: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One MeterValue at `ts` (both versions' shape)."""
    return [{"timestamp": iso(ts), "sampled_value": sampled}]


def _sampled_201(
    value: float, measurand: str, unit: str, context: str | None = None
) -> dict[str, Any]:
    """A 2.0.1 SampledValue: a number with its unit of measure."""
    sample: dict[str, Any] = {"value": value, "measurand": measurand}
    if context is not None:
        sample["context"] = context
    sample["unit_of_measure"] = {"unit": unit}
    return sample


def _register_201(connector: Connector, context: str | None = None) -> dict[str, Any]:
    """The connector's energy register, kWh, as a 2.0.1 SampledValue."""
    energy_kwh = round(connector.energy_wh / 1000.0, 4)
    return _sampled_201(energy_kwh, "Energy.Active.Import.Register", "kWh", context)


class _Peer(ChargePoint):
    """The `ocpp` client of one simulated station, whatever its version (mixed in before
    the version's `ChargePoint`, whose `@on` handlers answer the central system)."""

    def __init__(self, cp_id: str, connection: ClientConnection, station: SimulatedStation) -> None:
        super().__init__(cp_id, connection, response_timeout=10)
        self.station = station

    def take_profile(self, item: Received) -> str:
        """The station's answer to a SetChargingProfile, as both versions word it."""
        return "Accepted" if self.station.profiles.answer(item) else "Rejected"


class SimulatedStation:
    """What both versions share: connectors with vehicles, profiles, the connection."""

    version = ""
    ocpp: ChargePoint16 | ChargePoint201

    def __init__(self, cp_id: str, connectors: dict[int, Connector], behaviour: Behaviour) -> None:
        self.id = cp_id
        self.connectors = connectors
        self.profiles = Profiles(behaviour=behaviour)
        self.connection: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def subprotocol(self) -> str:
        return "ocpp1.6" if self.version == "1.6" else "ocpp2.0.1"

    async def connect(self, url: str, password: str, tls: ssl.SSLContext | None = None) -> None:
        token = base64.b64encode(f"{self.id}:{password}".encode()).decode()
        self.connection = await connect(
            f"{url}/ocpp/{self.id}",
            subprotocols=[self.subprotocol],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Basic {token}"},
            ssl=tls,
            open_timeout=10,
        )
        self.ocpp = self._peer(self.connection)
        self._task = asyncio.create_task(self._serve())

    async def _serve(self) -> None:
        with contextlib.suppress(Exception):
            if self.profiles.behaviour.silent:
                await self._serve_silently()
            await self.ocpp.start()

    async def _serve_silently(self) -> None:
        """Take the answers to our own calls, never answer the central system's."""
        assert self.connection is not None
        while True:
            message = await self.connection.recv()
            if not str(message).startswith("[2,"):
                await self.ocpp.route_message(message)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def draws(self, now: float | None = None) -> dict[int, float]:
        return self.profiles.draws(self.connectors, time.time() if now is None else now)

    async def meter(self, connector_id: int, seconds: float = 60.0) -> float:
        """Charge for `seconds` at the allowed draw and report it; the draw, kW."""
        connector = self.connectors[connector_id]
        kw = self.draws()[connector_id]
        connector.energy_wh += kw * 1000.0 * seconds / 3600.0
        await self.send_meter(connector_id, kw)
        return kw

    async def _unplugged(self, connector_id: int, ts: float | None) -> None:
        """The transaction is over: its TxProfile goes with it, the connector is free."""
        self.profiles.forget(connector_id, "TxProfile")
        self.connectors[connector_id].transaction_id = None
        await self.status(connector_id, "Available", ts)

    def _peer(self, connection: ClientConnection) -> Any:
        raise NotImplementedError

    # What each version implements, for callers that hold either.

    async def boot(self) -> None:
        raise NotImplementedError

    async def status(self, connector_id: int, status: str, ts: float | None = None) -> None:
        raise NotImplementedError

    async def plug_in(
        self,
        connector_id: int,
        demand_kw: float,
        needs_kwh: float | None = None,
        departure: float | None = None,
        ts: float | None = None,
    ) -> None:
        raise NotImplementedError

    async def unplug(self, connector_id: int, ts: float | None = None) -> None:
        raise NotImplementedError

    async def charging(self, connector_id: int, charging: bool, ts: float | None = None) -> None:
        raise NotImplementedError

    async def send_meter(
        self, connector_id: int, kw: float, ts: float | None = None, state: str | None = None
    ) -> None:
        raise NotImplementedError


class Station16(SimulatedStation):
    version = "1.6"

    def _peer(self, connection: ClientConnection) -> Any:
        return _Peer16(self.id, connection, self)

    async def boot(self) -> None:
        await self.ocpp.call(
            call16.BootNotification(charge_point_model="Sim", charge_point_vendor="Territory")
        )

    async def status(self, connector_id: int, status: str, ts: float | None = None) -> None:
        await self.ocpp.call(
            call16.StatusNotification(
                connector_id=connector_id, error_code="NoError", status=status, timestamp=iso(ts)
            )
        )

    async def plug_in(
        self,
        connector_id: int,
        demand_kw: float,
        needs_kwh: float | None = None,
        departure: float | None = None,
        ts: float | None = None,
    ) -> None:
        """A vehicle plugs in and a transaction starts (1.6 has no way to say its needs)."""
        del needs_kwh, departure
        connector = self.connectors[connector_id]
        connector.demand_kw = demand_kw
        await self.status(connector_id, "Preparing", ts)
        answer = await self.ocpp.call(
            call16.StartTransaction(
                connector_id=connector_id,
                id_tag="TAG1",
                meter_start=int(connector.energy_wh),
                timestamp=iso(ts),
            )
        )
        connector.transaction_id = str(answer.transaction_id)
        await self.status(connector_id, "Charging", ts)

    async def unplug(self, connector_id: int, ts: float | None = None) -> None:
        connector = self.connectors[connector_id]
        assert connector.transaction_id is not None
        await self.ocpp.call(
            call16.StopTransaction(
                transaction_id=int(connector.transaction_id),
                meter_stop=int(connector.energy_wh),
                timestamp=iso(ts),
            )
        )
        await self._unplugged(connector_id, ts)

    async def charging(self, connector_id: int, charging: bool, ts: float | None = None) -> None:
        """The vehicle starts or stops drawing within its transaction."""
        await self.status(connector_id, "Charging" if charging else "SuspendedEV", ts)

    async def send_meter(
        self, connector_id: int, kw: float, ts: float | None = None, state: str | None = None
    ) -> None:
        """MeterValues: the register (and the power, unless the charger has no such measurand);
        1.6 says the charging state by StatusNotification, not here."""
        del state
        connector = self.connectors[connector_id]
        sampled = [{"value": f"{connector.energy_wh:.1f}", "unit": "Wh"}]
        if self.profiles.behaviour.power_measurand:
            sampled.append(
                {"value": f"{kw * 1000.0:.1f}", "measurand": "Power.Active.Import", "unit": "W"}
            )
        await self.ocpp.call(
            call16.MeterValues(
                connector_id=connector_id,
                transaction_id=int(connector.transaction_id) if connector.transaction_id else None,
                meter_value=_meter_value(ts, sampled),
            )
        )


class _Peer16(_Peer, ChargePoint16):
    @on(Action16.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        b = self.station.profiles.behaviour
        return result16.GetConfiguration(
            configuration_key=[
                {
                    "key": "ChargeProfileMaxStackLevel",
                    "readonly": True,
                    "value": str(b.max_stack_level),
                },
                {
                    "key": "ChargingScheduleAllowedChargingRateUnit",
                    "readonly": True,
                    "value": b.rate_units,
                },
            ]
        )

    @on(Action16.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        item = _received(
            connector_id, cs_charging_profiles, cs_charging_profiles["charging_schedule"]
        )
        return result16.SetChargingProfile(status=self.take_profile(item))


class Station201(SimulatedStation):
    version = "2.0.1"

    def _peer(self, connection: ClientConnection) -> Any:
        return _Peer201(self.id, connection, self)

    async def boot(self) -> None:
        await self.ocpp.call(
            call201.BootNotification(
                charging_station={"model": "Sim", "vendor_name": "Territory"}, reason="PowerUp"
            )
        )

    async def status(self, evse_id: int, status: str, ts: float | None = None) -> None:
        await self.ocpp.call(
            call201.StatusNotification(
                timestamp=iso(ts), connector_status=status, evse_id=evse_id, connector_id=1
            )
        )

    async def plug_in(
        self,
        evse_id: int,
        demand_kw: float,
        needs_kwh: float | None = None,
        departure: float | None = None,
        ts: float | None = None,
    ) -> None:
        connector = self.connectors[evse_id]
        connector.demand_kw = demand_kw
        connector.transaction_id = f"{self.id}-{evse_id}-{time.monotonic_ns()}"
        await self.status(evse_id, "Occupied", ts)
        # The register at the start (SampledDataTxStartedMeasurands), as chargers send it.
        register = _register_201(connector, context="Transaction.Begin")
        await self._event(
            "Started",
            evse_id,
            "CablePluggedIn",
            charging_state="Charging",
            meter_value=_meter_value(ts, [register]),
            ts=ts,
        )
        if needs_kwh is not None:
            needs: dict[str, Any] = {
                "requested_energy_transfer": "AC_three_phase",
                "ac_charging_parameters": {
                    "energy_amount": int(needs_kwh * 1000),
                    "ev_min_current": 6,
                    "ev_max_current": 32,
                    "ev_max_voltage": 400,
                },
            }
            if departure is not None:
                needs["departure_time"] = iso(departure)
            await self.ocpp.call(
                call201.NotifyEVChargingNeeds(charging_needs=needs, evse_id=evse_id)
            )

    async def unplug(self, evse_id: int, ts: float | None = None) -> None:
        await self._event(
            "Ended", evse_id, "EVCommunicationLost", stopped_reason="EVDisconnected", ts=ts
        )
        await self._unplugged(evse_id, ts)

    async def charging(self, evse_id: int, charging: bool, ts: float | None = None) -> None:
        """The vehicle starts or stops drawing within its transaction."""
        state = "Charging" if charging else "SuspendedEV"
        await self._event("Updated", evse_id, "ChargingStateChanged", charging_state=state, ts=ts)

    async def send_meter(
        self, evse_id: int, kw: float, ts: float | None = None, state: str | None = "Charging"
    ) -> None:
        """A TransactionEvent with the register (and the power, if it has the measurand), and
        the charging state if given; 2.0.1 sends meter values within a transaction only."""
        connector = self.connectors[evse_id]
        if connector.transaction_id is None:
            return
        sampled = [_register_201(connector)]
        if self.profiles.behaviour.power_measurand:
            sampled.append(_sampled_201(round(kw * 1000.0, 1), "Power.Active.Import", "W"))
        await self._event(
            "Updated",
            evse_id,
            "MeterValuePeriodic",
            charging_state=state,
            meter_value=_meter_value(ts, sampled),
            ts=ts,
        )

    async def _event(
        self,
        event_type: str,
        evse_id: int,
        trigger: str,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        meter_value: list[dict[str, Any]] | None = None,
        ts: float | None = None,
    ) -> None:
        connector = self.connectors[evse_id]
        info: dict[str, Any] = {"transaction_id": connector.transaction_id}
        if charging_state:
            info["charging_state"] = charging_state
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        self._seq = getattr(self, "_seq", 0) + 1
        await self.ocpp.call(
            call201.TransactionEvent(
                event_type=event_type,
                timestamp=iso(ts),
                trigger_reason=trigger,
                seq_no=self._seq,
                transaction_info=info,
                evse={"id": evse_id, "connector_id": 1},
                meter_value=meter_value,
            )
        )


class _Peer201(_Peer, ChargePoint201):
    @on(Action201.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        b = self.station.profiles.behaviour
        units = b.rate_units.replace("Current", "A").replace("Power", "W")
        values = {"ProfileStackLevel": str(b.max_stack_level), "RateUnit": units}
        return result201.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": values[item["variable"]["name"]],
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in get_variable_data
            ]
        )

    @on(Action201.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        item = _received(evse_id, charging_profile, charging_profile["charging_schedule"][0])
        return result201.SetChargingProfile(status=self.take_profile(item))
