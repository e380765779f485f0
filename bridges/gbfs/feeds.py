"""What a GBFS system publishes, version by version: the auto-discovery file, then station
information and status, turned into plain records.

The versions differ in three ways this module hides: times are POSIX seconds up to 2.3
and RFC 3339 strings in 3.0; vehicles are `bikes` up to 2.3 and `vehicles` in 3.0; the
auto-discovery file lists its feeds per language up to 2.3 and once, flat, in 3.0 (where
names are lists of translations instead).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Discovery:
    """A system's gbfs.json: its version and where each feed is."""

    version: str
    feeds: dict[str, str]
    ttl: int


@dataclass(frozen=True)
class StationInfo:
    """The fixed part of a station (station_information.json)."""

    station_id: str
    name: str
    latitude: float
    longitude: float
    capacity: int | None


@dataclass(frozen=True)
class StationStatus:
    """A station's state at `last_reported` (station_status.json)."""

    station_id: str
    vehicles_available: int
    docks_available: int | None
    docks_disabled: int | None
    is_installed: bool
    is_renting: bool
    is_returning: bool
    last_reported: float  # epoch seconds
    record: bytes  # the station's record as published, kept for a dead letter


def version_of(document: dict[str, Any]) -> str:
    """The version a gbfs.json declares; 1.0 had no `version` field."""
    version = document.get("version", "1.0")
    return version if isinstance(version, str) else str(version)


def discovery(document: dict[str, Any], language: str | None) -> Discovery:
    """The feeds of a (schema-valid) gbfs.json; per-language lists give `language`'s, or
    the first one's."""
    version = version_of(document)
    data = document["data"]
    if "feeds" in data and isinstance(data["feeds"], list):
        listed = data["feeds"]
    else:
        chosen = language if language in data else next(iter(data))
        listed = data[chosen]["feeds"]
    return Discovery(
        version=version,
        feeds={feed["name"]: feed["url"] for feed in listed},
        ttl=int(document["ttl"]),
    )


def epoch_seconds(value: int | float | str) -> float:
    """A GBFS time: POSIX seconds (≤ 2.3) or RFC 3339 (3.0)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return float(value)


def text(value: str | list[dict[str, str]], language: str | None) -> str:
    """A GBFS string: plain (≤ 2.3) or a list of translations (3.0)."""
    if isinstance(value, str):
        return value
    for translation in value:
        if translation.get("language") == language:
            return translation["text"]
    return value[0]["text"] if value else ""


def station_infos(document: dict[str, Any], language: str | None) -> dict[str, StationInfo]:
    """Every station of a (schema-valid) station_information.json, by station_id."""
    found: dict[str, StationInfo] = {}
    for station in document["data"]["stations"]:
        info = StationInfo(
            station_id=str(station["station_id"]),
            name=text(station["name"], language),
            latitude=float(station["lat"]),
            longitude=float(station["lon"]),
            capacity=station.get("capacity"),
        )
        found[info.station_id] = info
    return found


def station_statuses(document: dict[str, Any]) -> list[StationStatus]:
    """Every station of a (schema-valid) station_status.json."""
    found = []
    for station in document["data"]["stations"]:
        vehicles = station.get("num_vehicles_available", station.get("num_bikes_available"))
        found.append(
            StationStatus(
                station_id=str(station["station_id"]),
                vehicles_available=int(vehicles),
                docks_available=station.get("num_docks_available"),
                docks_disabled=station.get("num_docks_disabled"),
                is_installed=bool(station["is_installed"]),
                is_renting=bool(station["is_renting"]),
                is_returning=bool(station["is_returning"]),
                last_reported=epoch_seconds(station["last_reported"]),
                record=json.dumps(station, separators=(",", ":")).encode(),
            )
        )
    return found


def status_word(status: StationStatus) -> str:
    """BikeHireDockingStation's status from GBFS's three flags."""
    if not status.is_installed or not (status.is_renting or status.is_returning):
        return "outOfService"
    if status.is_renting and status.is_returning:
        return "working"
    return "withIncidence"


def reading(status: StationStatus, capacity: int | None) -> dict[str, Any]:
    """The `bike_station` payload of one station status; `capacity` is the station's docks
    (station_information's, else the inventory's)."""
    free = status.docks_available or 0
    disabled = status.docks_disabled
    # A station with no declared capacity holds at least what it reports.
    total = capacity if capacity is not None else status.vehicles_available + free + (disabled or 0)
    payload: dict[str, Any] = {
        "ts": status.last_reported,
        # The device time as sequence: a station re-read unchanged is the same reading.
        "seq": int(status.last_reported),
        "availableBikeNumber": status.vehicles_available,
        "freeSlotNumber": free,
        "totalSlotNumber": total,
        "status": status_word(status),
    }
    if disabled is not None:
        payload["outOfServiceSlotNumber"] = disabled
    return payload
