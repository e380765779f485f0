"""Inventory devices and their readings as NGSI-LD entities of FIWARE Smart Data Models.

A kind becomes the Smart Data Model that describes it, or the nearest one: a device's
entity carries its name, zone and position from the inventory and, as Properties
observed at the reading's device time, the attributes of its latest reading (named
after the same models, see docs/payloads.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.opendata.common import position
from dashboard.opendata.config import OpenDataConfig
from territory.inventory import Device
from territory.readings import Reading

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
SDM_CONTEXT = "https://smartdatamodels.org/context.jsonld"
CONTEXT = [SDM_CONTEXT, CORE_CONTEXT]

ENTITY_TYPES = {
    "bike_station": "BikeHireDockingStation",
    "ev_charger": "EVChargingStation",
    "traffic": "TrafficFlowObserved",
    "air": "AirQualityObserved",
    "meter": "ThreePhaseAcMeasurement",
    "feeder": "ThreePhaseAcMeasurement",
    "pv": "PhotovoltaicMeasurement",
    "transit_counter": "CrowdFlowObserved",
    "van": "Vehicle",
}
# UN/CEFACT common codes, as Smart Data Models give them.
UNIT_CODES = {
    "activePower": "KWT",
    "powerConsumption": "KWT",
    "maxPower": "KWT",
    "powerLimit": "KWT",
    "activeEnergyImport": "KWH",
    "requestedEnergy": "KWH",
    "averageVehicleSpeed": "KMH",
    "pm25": "GQ",
    "pm10": "GQ",
    "no2": "GQ",
}
_OBSERVED = frozenset({"TrafficFlowObserved", "AirQualityObserved", "CrowdFlowObserved"})


def entity_id(device: Device) -> str:
    return f"urn:ngsi-ld:{ENTITY_TYPES[device.kind]}:{device.id}"


def device_of_entity(entity: str) -> str | None:
    """The device id an entity id names, if it has our shape."""
    parts = entity.split(":")
    if len(parts) != 4 or parts[:2] != ["urn", "ngsi-ld"]:
        return None
    return parts[3]


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def prop(value: Any, observed_s: float | None = None, attribute: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"type": "Property", "value": value}
    if observed_s is not None:
        found["observedAt"] = rfc3339(observed_s)
    unit = UNIT_CODES.get(attribute)
    if unit is not None:
        found["unitCode"] = unit
    return found


def entity(device: Device, reading: Reading | None, config: OpenDataConfig) -> dict[str, Any]:
    """The entity of one device, with its latest reading's attributes when it has one."""
    found: dict[str, Any] = {
        "id": entity_id(device),
        "type": ENTITY_TYPES[device.kind],
        "name": prop(device.name or device.id),
        "areaServed": prop(device.zone),
    }
    where = position(device, config)
    if where is not None:
        latitude, longitude = where
        found["location"] = {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [longitude, latitude]},
        }
    if device.capacity is not None and device.kind == "bike_station":
        found["totalSlotNumber"] = prop(device.capacity)
    if reading is not None:
        for attribute, value in reading.fields.items():
            found[attribute] = prop(value, reading.ts, attribute)
        if found["type"] in _OBSERVED:
            found["dateObserved"] = prop(rfc3339(reading.ts))
    return found


def temporal(
    device: Device, readings: list[Reading], attrs: set[str] | None, config: OpenDataConfig
) -> dict[str, Any]:
    """The entity in NGSI-LD's temporal representation: each attribute an array of its
    instances, oldest first."""
    found = {
        key: value
        for key, value in entity(device, None, config).items()
        if key in ("id", "type", "name", "location")
    }
    for reading in readings:
        for attribute, value in reading.fields.items():
            if attrs is None or attribute in attrs:
                found.setdefault(attribute, []).append(prop(value, reading.ts, attribute))
    return found


def attribute_value(found: dict[str, Any], attribute: str) -> Any:
    """The value of an entity's attribute (`name`, `location` included), or None."""
    held = found.get(attribute)
    if isinstance(held, dict):
        return held.get("value")
    return None
