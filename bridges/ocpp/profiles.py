"""From a limit in kW to a SetChargingProfile request, as this charger can take it.

The stack level and the rate unit come from the charger's own configuration (1.6:
ChargeProfileMaxStackLevel and ChargingScheduleAllowedChargingRateUnit; 2.0.1:
SmartChargingCtrlr.ProfileStackLevel and RateUnit), narrowed by its quirks, declared in
the inventory or learned from a rejection. Amps are computed from watts with the
inventory's phases and voltage, rounded down so that a limit never grows in the change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from territory.inventory.model import OcppQuirk

Purpose = Literal["max", "tx", "tx_default"]
Unit = Literal["A", "W"]
STATION = 0  # connector (1.6) or EVSE (2.0.1) id of the whole charge point
# Fixed profile ids: a new profile with the same id replaces the one before on the charger.
PROFILE_ID_BASE: dict[Purpose, int] = {"max": 1, "tx_default": 1000, "tx": 2000}
V16_PURPOSE: dict[Purpose, str] = {
    "max": "ChargePointMaxProfile",
    "tx": "TxProfile",
    "tx_default": "TxDefaultProfile",
}
V201_PURPOSE: dict[Purpose, str] = {
    "max": "ChargingStationMaxProfile",
    "tx": "TxProfile",
    "tx_default": "TxDefaultProfile",
}


@dataclass(frozen=True)
class ChargerConfig:
    """What the charger said about smart charging when asked."""

    max_stack_level: int = 0
    rate_units: frozenset[Unit] = frozenset({"A"})

    @classmethod
    def parse(cls, stack_level: str | None, units: str | None) -> ChargerConfig:
        """From the configuration values as sent ('3', 'Current,Power' or 'A,W')."""
        try:
            level = max(int(stack_level or 0), 0)
        except ValueError:
            level = 0
        found: set[Unit] = set()
        for word in (units or "").replace(" ", "").split(","):
            if word in ("Current", "A"):
                found.add("A")
            elif word in ("Power", "W"):
                found.add("W")
        return cls(level, frozenset(found) or frozenset({"A"}))


@dataclass
class Capabilities:
    """The charger's configuration and quirks: how to phrase every profile for it."""

    config: ChargerConfig
    quirks: set[OcppQuirk] = field(default_factory=set)
    proven: set[tuple[Unit, int]] = field(default_factory=set)

    @property
    def unit(self) -> Unit:
        if "amps_only" in self.quirks:
            return "A"
        if "watts_only" in self.quirks or "W" in self.config.rate_units:
            return "W"
        return "A"

    @property
    def stack_level(self) -> int:
        return 0 if "stack_level_zero" in self.quirks else self.config.max_stack_level

    @property
    def takes_tx_default(self) -> bool:
        return "no_tx_default" not in self.quirks

    def accepted(self, request: ProfileRequest) -> None:
        """A phrasing the charger took: its unit and stack level are proven good."""
        self.proven.add((request.unit, request.stack_level))

    def learn_from_rejection(self, request: ProfileRequest) -> bool:
        """Narrow the quirks after a rejection; True when a retry phrased otherwise may pass.

        A rejection does not say why. When this unit and stack level were taken before,
        the purpose is at fault; otherwise the unit is tried first, then the stack level."""
        if (request.unit, request.stack_level) in self.proven:
            if request.purpose == "tx_default":
                self.quirks.add("no_tx_default")
            return False
        if request.unit == "W" and not self.quirks & {"watts_only", "amps_only"}:
            self.quirks.add("amps_only")
            return True
        if request.stack_level > 0:
            self.quirks.add("stack_level_zero")
            return True
        if request.purpose == "tx_default":
            self.quirks.add("no_tx_default")
        return False


@dataclass(frozen=True)
class ProfileRequest:
    """One limit to set on a connector (or the whole station), in the charger's terms."""

    purpose: Purpose
    connector_id: int
    limit_kw: float
    start: float  # epoch seconds
    duration_s: int | None  # None: holds until replaced
    transaction_id: str | None
    phases: int
    voltage_v: float
    unit: Unit
    stack_level: int

    @property
    def profile_id(self) -> int:
        return PROFILE_ID_BASE[self.purpose] + self.connector_id

    @property
    def limit(self) -> float:
        """The limit in the request's unit, rounded down (0.1 A or 1 W)."""
        watts = max(self.limit_kw, 0.0) * 1000.0
        if self.unit == "W":
            return float(math.floor(watts))
        return math.floor(watts / (self.phases * self.voltage_v) * 10.0) / 10.0

    def v16(self) -> dict[str, Any]:
        """Keyword arguments of ocpp.v16.call.SetChargingProfile."""
        profile: dict[str, Any] = {
            "charging_profile_id": self.profile_id,
            "stack_level": self.stack_level,
            "charging_profile_purpose": V16_PURPOSE[self.purpose],
            "charging_profile_kind": "Absolute",
            "charging_schedule": self._schedule(),
        }
        if self.transaction_id is not None:
            profile["transaction_id"] = int(self.transaction_id)
        return {"connector_id": self.connector_id, "cs_charging_profiles": profile}

    def v201(self) -> dict[str, Any]:
        """Keyword arguments of ocpp.v201.call.SetChargingProfile."""
        profile: dict[str, Any] = {
            "id": self.profile_id,
            "stack_level": self.stack_level,
            "charging_profile_purpose": V201_PURPOSE[self.purpose],
            "charging_profile_kind": "Absolute",
            "charging_schedule": [{"id": self.profile_id, **self._schedule()}],
        }
        if self.transaction_id is not None:
            profile["transaction_id"] = self.transaction_id
        return {"evse_id": self.connector_id, "charging_profile": profile}

    def _schedule(self) -> dict[str, Any]:
        schedule: dict[str, Any] = {
            "start_schedule": datetime.fromtimestamp(math.floor(self.start), UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "charging_rate_unit": self.unit,
            "charging_schedule_period": [
                {"start_period": 0, "limit": self.limit, "number_phases": self.phases}
            ],
        }
        if self.duration_s is not None:
            schedule["duration"] = self.duration_s
        return schedule


def request(
    capabilities: Capabilities,
    purpose: Purpose,
    connector_id: int,
    limit_kw: float,
    *,
    now: float,
    until: float | None,
    transaction_id: str | None = None,
    phases: int = 3,
    voltage_v: float = 230.0,
) -> ProfileRequest:
    """The request for `limit_kw` from `now` until `until` (None: until replaced)."""
    duration = None if until is None else max(math.ceil(until - math.floor(now)), 1)
    return ProfileRequest(
        purpose=purpose,
        connector_id=connector_id,
        limit_kw=limit_kw,
        start=now,
        duration_s=duration,
        transaction_id=transaction_id,
        phases=phases,
        voltage_v=voltage_v,
        unit=capabilities.unit,
        stack_level=capabilities.stack_level,
    )
