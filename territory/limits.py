"""Limits that readings claim, compared with the inventory's.

A device may report the limit it believes in (a feeder head meter its `powerLimit`, a
charger its `maxPower`), and a forged or misconfigured one may claim anything. The
platform obeys the inventory only; a claim that differs is stored as it came, counted
at ingest, raised as an alert on the console and named in the optimiser's notes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from territory.inventory import Device, Inventory
from territory.readings import Reading

# (device kind, attribute a reading may claim) -> the inventory field that decides.
CLAIMED_LIMITS: dict[tuple[str, str], str] = {
    ("feeder", "powerLimit"): "limit_kw",
    ("ev_charger", "maxPower"): "max_power_kw",
    ("ev_charger", "feeder"): "feeder",
    ("meter", "feeder"): "feeder",
    ("pv", "feeder"): "feeder",
    ("bike_station", "totalSlotNumber"): "capacity",
    ("van", "capacity"): "capacity",
    ("transit_counter", "corridor"): "corridor",
}


@dataclass(frozen=True, slots=True)
class LimitClaim:
    """A reading's claim that the inventory contradicts."""

    device_id: str
    kind: str
    attribute: str
    claimed: float | int | str | bool
    inventory: float | int | str

    def describe(self) -> str:
        return (
            f"{self.kind} {self.device_id}: reading claims {self.attribute}={self.claimed!r}, "
            f"the inventory's {self.inventory!r} holds"
        )


def claims_of(reading_kind: str, fields: dict[str, object], device: Device) -> list[LimitClaim]:
    """What one reading's fields claim against its device's inventory entry."""
    found = []
    for (kind, attribute), limit in CLAIMED_LIMITS.items():
        if kind != reading_kind or attribute not in fields:
            continue
        expected = getattr(device, limit)
        claimed = fields[attribute]
        if expected is None or _agrees(claimed, expected):
            continue
        if isinstance(claimed, float | int | str | bool):
            found.append(LimitClaim(device.id, kind, attribute, claimed, expected))
    return found


def limit_claims(readings: Iterable[Reading], inventory: Inventory) -> list[LimitClaim]:
    """Every claim in these readings that the inventory contradicts."""
    found: list[LimitClaim] = []
    for reading in readings:
        device = inventory.device(reading.device_id)
        if device is not None and device.kind == reading.kind:
            found.extend(claims_of(reading.kind, dict(reading.fields), device))
    return found


def _agrees(claimed: object, expected: float | int | str) -> bool:
    if isinstance(expected, str) or isinstance(claimed, str | bool):
        return claimed == expected
    if not isinstance(claimed, int | float):
        return False
    return math.isclose(float(claimed), float(expected), rel_tol=1e-6, abs_tol=1e-9)
