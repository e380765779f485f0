"""The territory's stations as a GBFS 3.0 system, at /gbfs/gbfs.json, for anyone.

Stations are the inventory's `bike_station` devices that have a place on the Earth (an
origin in config/opendata.yaml); their status is each one's latest reading. Every file
carries its `ttl` and `last_updated` and is cached by clients for `ttl` seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from dashboard.console import Console, console_of
from dashboard.opendata.common import (
    OpenData,
    base_url,
    blocking,
    inventory_of,
    opendata_of,
    position,
    public,
)
from dashboard.opendata.config import OpenDataConfig
from territory.inventory import Inventory
from territory.readings import Reading

VERSION = "3.0"
VEHICLE_TYPE = "bike"
FEEDS = (
    "system_information",
    "vehicle_types",
    "station_information",
    "station_status",
    "gbfs_versions",
)

router = APIRouter(prefix="/gbfs", tags=["open data: GBFS"], dependencies=[Depends(public)])
# Files that change only with the configuration or the inventory: dated from start-up.
_STARTED = time.time()


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(int(epoch_s), UTC).isoformat().replace("+00:00", "Z")


def envelope(data: dict[str, Any], ttl: int, updated_s: float) -> dict[str, Any]:
    return {"last_updated": rfc3339(updated_s), "ttl": ttl, "version": VERSION, "data": data}


def _answer(document: dict[str, Any]) -> JSONResponse:
    updated = datetime.fromisoformat(document["last_updated"])
    return JSONResponse(
        document,
        headers={
            "Cache-Control": f"public, max-age={document['ttl']}",
            "Last-Modified": updated.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "Access-Control-Allow-Origin": "*",
        },
    )


@router.get("/gbfs.json", summary="Auto-discovery: every file of the system")
async def gbfs(request: Request, opendata: OpenData = Depends(opendata_of)) -> JSONResponse:
    config = opendata.config
    base = base_url(request, config)
    feeds = [{"name": name, "url": f"{base}/gbfs/{name}.json"} for name in FEEDS]
    return _answer(envelope({"feeds": feeds}, config.gbfs.static_ttl_s, _STARTED))


@router.get("/manifest.json", summary="The systems this publisher serves")
async def manifest(request: Request, opendata: OpenData = Depends(opendata_of)) -> JSONResponse:
    config = opendata.config
    versions = [{"version": VERSION, "url": f"{base_url(request, config)}/gbfs/gbfs.json"}]
    datasets = [{"system_id": config.gbfs.system_id, "versions": versions}]
    return _answer(envelope({"datasets": datasets}, config.gbfs.static_ttl_s, _STARTED))


@router.get("/gbfs_versions.json", summary="The GBFS versions served")
async def gbfs_versions(
    request: Request, opendata: OpenData = Depends(opendata_of)
) -> JSONResponse:
    config = opendata.config
    versions = [{"version": VERSION, "url": f"{base_url(request, config)}/gbfs/gbfs.json"}]
    return _answer(envelope({"versions": versions}, config.gbfs.static_ttl_s, _STARTED))


@router.get("/system_information.json", summary="The system, its licence and contact")
async def system_information(
    request: Request, opendata: OpenData = Depends(opendata_of)
) -> JSONResponse:
    config = opendata.config
    return _answer(
        envelope(system_data(config, base_url(request, config)), config.gbfs.static_ttl_s, _STARTED)
    )


def system_data(config: OpenDataConfig, base: str) -> dict[str, Any]:
    gbfs = config.gbfs
    data: dict[str, Any] = {
        "system_id": gbfs.system_id,
        "languages": [gbfs.language],
        "name": [{"text": gbfs.name, "language": gbfs.language}],
        "opening_hours": gbfs.opening_hours,
        "feed_contact_email": config.publisher.email,
        "timezone": gbfs.timezone,
        "manifest_url": f"{base}/gbfs/manifest.json",
        "attribution_organization_name": [
            {"text": config.publisher.name, "language": gbfs.language}
        ],
    }
    # GBFS takes one or the other: the SPDX id when the licence has one.
    if config.licence.id:
        data["license_id"] = config.licence.id
    else:
        data["license_url"] = config.licence.url
    if config.publisher.url:
        data["attribution_url"] = config.publisher.url
    return data


@router.get("/vehicle_types.json", summary="The one vehicle type the stations hold")
async def vehicle_types(opendata: OpenData = Depends(opendata_of)) -> JSONResponse:
    gbfs = opendata.config.gbfs
    kind = {
        "vehicle_type_id": VEHICLE_TYPE,
        "form_factor": gbfs.form_factor,
        "propulsion_type": gbfs.propulsion_type,
        "name": [{"text": gbfs.name, "language": gbfs.language}],
    }
    return _answer(envelope({"vehicle_types": [kind]}, gbfs.static_ttl_s, _STARTED))


@router.get("/station_information.json", summary="Where each station is, its docks")
async def station_information(
    opendata: OpenData = Depends(opendata_of), inventory: Inventory = Depends(inventory_of)
) -> JSONResponse:
    config = opendata.config
    stations = []
    for device, (latitude, longitude) in placed_stations(inventory, config):
        stations.append(
            {
                "station_id": device.id,
                "name": [{"text": device.name or device.id, "language": config.gbfs.language}],
                "lat": latitude,
                "lon": longitude,
                "capacity": device.capacity,
                "vehicle_types_capacity": [
                    {"vehicle_type_ids": [VEHICLE_TYPE], "count": device.capacity}
                ],
            }
        )
    return _answer(envelope({"stations": stations}, config.gbfs.static_ttl_s, _STARTED))


@router.get("/station_status.json", summary="Vehicles and docks available now")
async def station_status(
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
    console: Console = Depends(console_of),
) -> JSONResponse:
    config = opendata.config
    placed = placed_stations(inventory, config)
    readings: list[Reading] = await blocking(
        console.reader.latest_of, [device.id for device, _ in placed]
    )
    latest = {r.device_id: r for r in readings}
    now = time.time()
    stations = [_status(device.id, latest.get(device.id), now) for device, _ in placed]
    updated = max((r.ts for r in readings), default=now)
    return _answer(envelope({"stations": stations}, config.gbfs.ttl_s, min(updated, now)))


def placed_stations(
    inventory: Inventory, config: OpenDataConfig
) -> list[tuple[Any, tuple[float, float]]]:
    """The inventory's stations that have a position, in id order."""
    found = []
    for device in sorted(inventory.of_kind("bike_station"), key=lambda d: d.id):
        where = position(device, config)
        if where is not None:
            found.append((device, where))
    return found


def _status(station_id: str, reading: Reading | None, now: float) -> dict[str, Any]:
    """A station's GBFS status; one that never reported is shown neither renting nor
    taking returns, rather than with invented counts."""
    if reading is None:
        return {
            "station_id": station_id,
            "num_vehicles_available": 0,
            "vehicle_types_available": [{"vehicle_type_id": VEHICLE_TYPE, "count": 0}],
            "num_docks_available": 0,
            "is_installed": False,
            "is_renting": False,
            "is_returning": False,
            "last_reported": rfc3339(now),
        }
    fields = reading.fields
    bikes = int(fields.get("availableBikeNumber", 0))
    docks = int(fields.get("freeSlotNumber", 0))
    renting, returning = _flags(str(fields.get("status", "working")), bikes, docks)
    status: dict[str, Any] = {
        "station_id": station_id,
        "num_vehicles_available": bikes,
        "vehicle_types_available": [{"vehicle_type_id": VEHICLE_TYPE, "count": bikes}],
        "num_docks_available": docks,
        "is_installed": fields.get("status") != "outOfService",
        "is_renting": renting,
        "is_returning": returning,
        "last_reported": rfc3339(min(reading.ts, now)),
    }
    if "outOfServiceSlotNumber" in fields:
        status["num_docks_disabled"] = int(fields["outOfServiceSlotNumber"])
    return status


def _flags(status: str, bikes: int, docks: int) -> tuple[bool, bool]:
    """(is_renting, is_returning) from BikeHireDockingStation's status; `withIncidence`
    does not say which of the two stopped, so the counts decide."""
    if status == "outOfService":
        return False, False
    if status == "withIncidence":
        return bikes > 0, docks > 0
    return True, True
