"""Where a station the inventory does not list goes: its device id, zone and map position."""

from __future__ import annotations

import math
from datetime import datetime

from bridges.gbfs.config import GbfsSource
from bridges.gbfs.feeds import StationInfo
from bridges.publish import redact
from territory.discovered import DiscoveredDevice
from territory.inventory import Device, Inventory


def zone_of(info: StationInfo, source: GbfsSource, inventory: Inventory | None) -> tuple[str, str]:
    """(zone, rule): the configured mapping, else the nearest zone of the inventory's map,
    else the configured default, else the system's own name."""
    mapped = source.zones.get(info.station_id)
    if mapped is not None:
        return mapped, "mapping"
    if source.origin is not None and inventory is not None and inventory.zones:
        x, y = source.origin.to_km(info.latitude, info.longitude)
        nearest = min(inventory.zones, key=lambda zone: math.hypot(zone.x - x, zone.y - y))
        return nearest.id, "nearest"
    if source.default_zone is not None:
        return source.default_zone, "default"
    return source.system, "source"


def discovered_station(
    info: StationInfo,
    source: GbfsSource,
    inventory: Inventory | None,
    seen: datetime,
) -> DiscoveredDevice:
    """The inventory device a station would be, with where and when it was seen."""
    zone, rule = zone_of(info, source, inventory)
    x = y = None
    if source.origin is not None:
        x, y = (round(v, 4) for v in source.origin.to_km(info.latitude, info.longitude))
    device = Device(
        id=source.device_id(info.station_id),
        kind="bike_station",
        zone=zone,
        x=x,
        y=y,
        name=info.name or None,
        # A station that declares no capacity is proposed with one dock: an operator sets it.
        capacity=min(10_000, max(1, info.capacity or 1)),
    )
    return DiscoveredDevice(
        device=device,
        source=redact(source.feed),
        external_id=info.station_id,
        latitude=info.latitude,
        longitude=info.longitude,
        zone_rule=rule,
        first_seen=seen,
        last_seen=seen,
    )
