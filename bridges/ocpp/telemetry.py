"""From OCPP messages to our `ev_charger` reading: status, power, energy and the session.

Protocol-neutral: the 1.6 and 2.0.1 handlers turn their messages into calls on a
`ConnectorState`, and `reading` builds the payload of `territory.kinds.EvCharger` from it.
Power is the Power.Active.Import measurand, or derived from two readings of the energy
register when the charger sends no power. What the vehicle wants comes from
NotifyEVChargingNeeds (ISO 15118) where the charger sends it, otherwise from the
inventory's defaults, marked `assumed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bridges.ocpp import clock
from bridges.ocpp.registry import Connector

Status = Literal["available", "charging", "occupied", "outOfService"]
PLUGGED: tuple[Status, ...] = ("charging", "occupied")
MAX_POWER_KW = 1000.0  # the payload contract's bound
CLOCK_SKEW_S = 300.0  # a charger time further than this from ours is not used as the reading's

# OCPP 1.6 ChargePointStatus and 2.0.1 ConnectorStatus, as our status.
STATUS: dict[str, Status] = {
    "Available": "available",
    "Preparing": "occupied",
    "Charging": "charging",
    "SuspendedEV": "occupied",
    "SuspendedEVSE": "occupied",
    "Finishing": "occupied",
    "Reserved": "occupied",
    "Occupied": "occupied",
    "Unavailable": "outOfService",
    "Faulted": "outOfService",
}
# 2.0.1 TransactionEvent chargingState, as our status.
CHARGING_STATE: dict[str, Status] = {
    "Charging": "charging",
    "EVConnected": "occupied",
    "SuspendedEV": "occupied",
    "SuspendedEVSE": "occupied",
    "Idle": "occupied",
}


@dataclass(frozen=True)
class Sample:
    """What one MeterValue said: its time, and power and/or energy when present."""

    ts: float
    power_kw: float | None
    energy_kwh: float | None


@dataclass
class Session:
    """A vehicle plugged in, from plug-in to unplug."""

    started: float
    wanted_kwh: float
    departure: float
    assumed: bool
    transaction_id: str | None = None
    meter_start_kwh: float | None = None


@dataclass
class ConnectorState:
    """What the bridge knows of one connector now."""

    connector: Connector
    status: Status = "available"
    power_kw: float = 0.0
    energy_kwh: float | None = None
    energy_ts: float | None = None
    ts: float = field(default_factory=clock.now)
    session: Session | None = None
    seq: int = 0

    def set_status(self, status: Status, ts: float) -> None:
        self.status = status
        self.ts = ts
        if status in PLUGGED:
            self._ensure_session(ts)
        else:
            self.session = None
            self.power_kw = 0.0

    def start_transaction(self, transaction_id: str, ts: float, meter_kwh: float | None) -> None:
        session = self._ensure_session(ts)
        session.transaction_id = transaction_id
        if meter_kwh is not None:
            session.meter_start_kwh = meter_kwh
            self._set_energy(meter_kwh, ts)
        self.ts = ts

    def stop_transaction(self, ts: float, meter_kwh: float | None) -> None:
        if meter_kwh is not None:
            self._set_energy(meter_kwh, ts)
        if self.session is not None:
            self.session.transaction_id = None
        self.power_kw = 0.0
        if self.status == "charging":
            self.status = "occupied"
        self.ts = ts

    @property
    def transaction_id(self) -> str | None:
        return self.session.transaction_id if self.session is not None else None

    def charging_needs(self, energy_kwh: float, departure: float | None, ts: float) -> None:
        """What the vehicle asked for (ISO 15118), replacing the inventory's defaults."""
        session = self._ensure_session(ts)
        delivered = self._delivered_kwh()
        # The need is counted from now: what was delivered so far is added back so that
        # requestedEnergy = need now.
        session.wanted_kwh = energy_kwh + delivered
        if departure is not None:
            session.departure = departure
        session.assumed = False
        self.ts = ts

    def add_sample(self, sample: Sample) -> None:
        if sample.energy_kwh is not None and sample.power_kw is None:
            derived = self._derived_power(sample)
            if derived is not None:
                self.power_kw = derived
        if sample.power_kw is not None:
            self.power_kw = sample.power_kw
        if sample.energy_kwh is not None:
            self._set_energy(sample.energy_kwh, sample.ts)
        self.ts = sample.ts

    def reading(self, now: float | None = None) -> dict[str, Any]:
        """The `ev_charger` payload for this connector now (territory.kinds.EvCharger)."""
        now = clock.now() if now is None else now
        self.seq = max(self.seq + 1, int(now * 1000))
        ts = self.ts if abs(self.ts - now) <= CLOCK_SKEW_S else now
        payload: dict[str, Any] = {
            "ts": round(ts, 3),
            "seq": self.seq,
            "status": self.status,
            "powerConsumption": round(min(max(self.power_kw, 0.0), MAX_POWER_KW), 3),
            "maxPower": self.connector.max_power_kw,
            "feeder": self.connector.feeder,
        }
        if self.energy_kwh is not None:
            payload["activeEnergyImport"] = round(self.energy_kwh, 3)
        if self.session is not None and self.status in PLUGGED:
            remaining = max(self.session.wanted_kwh - self._delivered_kwh(), 0.0)
            payload["requestedEnergy"] = round(min(remaining, MAX_POWER_KW), 3)
            payload["departure"] = round(self.session.departure, 3)
            payload["assumed"] = self.session.assumed
        return payload

    def _ensure_session(self, ts: float) -> Session:
        if self.session is None:
            ocpp = self.connector.device.ocpp
            assert ocpp is not None
            self.session = Session(
                started=ts,
                wanted_kwh=ocpp.default_energy_kwh,
                departure=ts + ocpp.default_dwell_h * 3600.0,
                assumed=True,
                meter_start_kwh=self.energy_kwh,
            )
        return self.session

    def _delivered_kwh(self) -> float:
        if self.session is None or self.energy_kwh is None:
            return 0.0
        start = self.session.meter_start_kwh
        return max(self.energy_kwh - start, 0.0) if start is not None else 0.0

    def _derived_power(self, sample: Sample) -> float | None:
        if self.energy_kwh is None or self.energy_ts is None or sample.energy_kwh is None:
            return None
        hours = (sample.ts - self.energy_ts) / 3600.0
        if hours <= 0:
            return None
        return max((sample.energy_kwh - self.energy_kwh) / hours, 0.0)

    def _set_energy(self, kwh: float, ts: float) -> None:
        self.energy_kwh = kwh
        self.energy_ts = ts
        if self.session is not None and self.session.meter_start_kwh is None:
            self.session.meter_start_kwh = kwh


def parse_time(value: str | None) -> float:
    """An OCPP timestamp (RFC 3339) as epoch seconds; now when absent or malformed."""
    if value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return clock.now()
        if moment.tzinfo is not None:
            return moment.timestamp()
    return clock.now()


def samples(meter_values: list[dict[str, Any]]) -> list[Sample]:
    """Each MeterValue as a Sample (1.6 and 2.0.1 shapes, after the ocpp package's
    snake_case conversion)."""
    return [_sample(item) for item in meter_values]


def _sample(meter_value: dict[str, Any]) -> Sample:
    power_total: float | None = None
    power_phases: list[float] = []
    energy: float | None = None
    for sampled in meter_value.get("sampled_value", []):
        if sampled.get("location") not in (None, "Outlet"):
            continue
        value = _scaled(sampled)
        if value is None:
            continue
        measurand = sampled.get("measurand", "Energy.Active.Import.Register")
        phase = sampled.get("phase")
        if measurand == "Power.Active.Import":
            if phase is None:
                power_total = value
            elif phase in ("L1", "L2", "L3"):
                power_phases.append(value)
        elif measurand == "Energy.Active.Import.Register" and phase is None:
            energy = value
    power = power_total if power_total is not None else (sum(power_phases) or None)
    return Sample(ts=parse_time(meter_value.get("timestamp")), power_kw=power, energy_kwh=energy)


def _scaled(sampled: dict[str, Any]) -> float | None:
    """The value in kW or kWh: 1.6 carries a string and `unit`, 2.0.1 a number and
    `unit_of_measure` {unit, multiplier}."""
    try:
        value = float(sampled["value"])
    except (KeyError, TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    measure = sampled.get("unit_of_measure") or {}
    unit = measure.get("unit") or sampled.get("unit")
    multiplier = float(10 ** int(measure.get("multiplier", 0)))
    value *= multiplier
    if unit in ("kW", "kWh"):
        return value
    if unit in ("W", "Wh", None):
        return value / 1000.0
    return None
