"""Inventories for tests: the devices that a test's readings describe, with their limits.

A test writes readings that claim limits (`powerLimit`, `maxPower`, ...); the platform
obeys an inventory. `inventory_for` builds the inventory those readings agree with, so
that a test states each limit once, in its readings; a test of forged claims then
changes a reading and keeps the inventory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from territory.inventory import Device, Inventory, Van, Zone
from territory.readings import Reading

# reading attribute -> inventory field, per kind
_LIMITS = {
    "feeder": {"powerLimit": "limit_kw"},
    "ev_charger": {"maxPower": "max_power_kw", "feeder": "feeder"},
    "meter": {"feeder": "feeder"},
    "pv": {"feeder": "feeder"},
    "bike_station": {"totalSlotNumber": "capacity"},
    "transit_counter": {"corridor": "corridor"},
}


def inventory_for(readings: Iterable[Reading], name: str = "test", **extra: Any) -> Inventory:
    """Zones and devices of these readings, limits from the first reading of each device."""
    devices: dict[str, dict[str, Any]] = {}
    zones: dict[str, Zone] = {}
    for r in readings:
        zones.setdefault(r.zone, Zone(id=r.zone, name=r.zone, x=0.0, y=0.0))
        if r.device_id in devices or r.kind == "van":
            continue
        entry: dict[str, Any] = {"id": r.device_id, "kind": r.kind, "zone": r.zone}
        for attribute, field in _LIMITS.get(r.kind, {}).items():
            if r.fields.get(attribute) is not None:
                entry[field] = r.fields[attribute]
        devices[r.device_id] = entry
    feeders = {d.get("feeder") for d in devices.values()} - {None}
    for feeder in sorted(str(f) for f in feeders if f not in devices):  # a feeder with no reading
        zone = next(iter(zones))
        devices[feeder] = {"id": feeder, "kind": "feeder", "zone": zone, "limit_kw": 1.0}
    vans: list[Van] = extra.pop("vans", [])
    for van in vans:
        zones.setdefault(van.zone, Zone(id=van.zone, name=van.zone, x=0.0, y=0.0))
    return Inventory(
        name=name,
        zones=list(zones.values()) + list(extra.pop("zones", [])),
        devices=[Device.model_validate(d) for d in devices.values()],
        vans=vans,
        **extra,
    )
