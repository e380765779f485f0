"""The REST API of the live state, and the live stream, under /api."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query
from sse_starlette import EventSourceResponse

from dashboard.access import Caller, viewer
from dashboard.console import Console, console_of
from dashboard.corridors import corridor_loads
from dashboard.history import (
    AGGREGATES,
    Aggregate,
    aggregate_points,
    from_rollups,
    raw_points,
    rollup_settings,
    step_points,
)
from dashboard.reader import reading_json
from dashboard.schemas import (
    CorridorLoadOut,
    HistoryOut,
    ReadingOut,
    TerritoryOut,
    WhoAmI,
    ZoneHistoryOut,
    ZoneSummary,
)
from dashboard.stream import page_events, parse_since
from dashboard.zone_history import (
    DEFAULT_STEP_S,
    ZONE_AGGREGATES,
    ZoneAggregate,
    inventory_devices,
    zone_points,
)
from territory.kinds import KINDS
from territory.store import StoreUnavailable

router = APIRouter(prefix="/api", dependencies=[Depends(viewer)])


async def read_store(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking store read off the event loop; a store failure becomes a 503."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except StoreUnavailable as exc:
        raise HTTPException(503, f"store unavailable: {exc}") from exc


@router.get("/whoami", response_model=WhoAmI, tags=["access"])
async def whoami(caller: Caller = Depends(viewer)) -> dict[str, Any]:
    """The caller's name and role."""
    return {"name": caller.name, "role": caller.role}


@router.get("/territory", response_model=TerritoryOut, tags=["territory"])
async def territory(console: Console = Depends(console_of)) -> dict[str, Any]:
    """The zones to draw (from the scenario, or derived from the readings) and corridors."""
    zones = {r["zone"] for r in console.feed.state.readings.values()}
    return console.territory.with_zones_of(zones).as_json()


@router.get("/zones", response_model=list[ZoneSummary], tags=["territory"])
async def zones(console: Console = Depends(console_of)) -> list[dict[str, Any]]:
    """Every zone with its headline figures and state (the worst of its open alerts)."""
    figures = console.feed.state.zones
    names = {z.id: z.name for z in console.territory.zones}
    ids = sorted(set(names) | set(figures))
    return [
        {"id": zone, "name": names.get(zone, zone), "state": "ok", **figures.get(zone, {})}
        for zone in ids
    ]


@router.get("/zones/{zone}/history", response_model=ZoneHistoryOut, tags=["territory"])
async def zone_history(
    zone: str = Path(description="The zone."),
    kind: str = Query(description=f"The kind of device added up: one of {', '.join(KINDS)}."),
    start: float | None = Query(None, description="From (epoch s); default: an hour before end."),
    end: float | None = Query(None, description="To (epoch s, excluded); default: now."),
    step: int = Query(
        DEFAULT_STEP_S, ge=1, description="Step length in seconds (aligned on the epoch)."
    ),
    aggregate: ZoneAggregate = Query("sum", description=f"One of {', '.join(ZONE_AGGREGATES)}."),
    console: Console = Depends(console_of),
) -> dict[str, Any]:
    """A zone's devices of one kind over [start, end), added up per step: per numeric
    attribute the sum of each device's step mean (or their mean, min, max, or how many
    devices had a value). From raw readings up to the rollups' raw_window_s, from rollups
    beyond; the devices from the console's inventory."""
    if kind not in KINDS:
        raise HTTPException(422, f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    end = end if end is not None else time.time()
    start = start if start is not None else end - 3600.0
    if end <= start:
        raise HTTPException(422, "end must be after start")
    most = console.config.history_max_points
    if (end - start) / step > most:
        raise HTTPException(422, f"{(end - start) / step:.0f} steps asked; at most {most}")
    seen = {r["zone"] for r in console.feed.state.readings.values()}
    if zone not in {z.id for z in console.territory.with_zones_of(seen).zones}:
        raise HTTPException(404, f"no zone {zone!r}")
    devices = inventory_devices(console.territory, zone, kind)
    devices_from = "inventory"
    if devices is None:
        newest = await read_store(console.reader.latest, kind=kind, zone=zone)
        devices, devices_from = sorted(r.device_id for r in newest), "readings"
    steps = await read_store(
        console.reader.zone_steps,
        devices,
        kind,
        int(start * 1e9),
        int(end * 1e9),
        step,
        rollup_settings(),
    )
    return {
        "zone": zone,
        "kind": kind,
        "devices": devices,
        "devices_from": devices_from,
        "start": start,
        "end": end,
        "step": step,
        "aggregate": aggregate,
        "points": zone_points(steps, aggregate),
    }


@router.get("/corridors", response_model=list[CorridorLoadOut], tags=["territory"])
async def corridors(console: Console = Depends(console_of)) -> list[dict[str, Any]]:
    """Each corridor's load per slot now, estimated from its passenger counters."""
    return [asdict(load) for load in corridor_loads(console.feed.state, console.territory)]


@router.get("/devices", response_model=list[ReadingOut], tags=["devices"])
async def devices(
    kind: str | None = Query(None, description="Only devices of this kind."),
    zone: str | None = Query(None, description="Only devices in this zone."),
    console: Console = Depends(console_of),
) -> list[dict[str, Any]]:
    """The newest reading of every device."""
    readings = await read_store(console.reader.latest, kind=kind, zone=zone)
    return [reading_json(r) for r in readings]


@router.get("/devices/{device_id}", response_model=ReadingOut, tags=["devices"])
async def device(
    device_id: str = Path(description="The device."), console: Console = Depends(console_of)
) -> dict[str, Any]:
    """The newest reading of one device."""
    [found] = await read_store(console.reader.latest_of, [device_id]) or [None]
    if found is None:
        raise HTTPException(404, f"no reading of device {device_id!r}")
    return reading_json(found)


@router.get("/devices/{device_id}/history", response_model=HistoryOut, tags=["devices"])
async def history(
    device_id: str = Path(description="The device."),
    start: float | None = Query(None, description="From (epoch s); default: an hour before end."),
    end: float | None = Query(None, description="To (epoch s, excluded); default: now."),
    step: float = Query(0, ge=0, description="Bucket length in seconds; 0 for raw readings."),
    aggregate: Aggregate = Query("mean", description=f"One of {', '.join(AGGREGATES)}."),
    console: Console = Depends(console_of),
) -> dict[str, Any]:
    """A device's readings in [start, end), raw or aggregated into buckets of `step` s
    (from the rollups for windows longer than the rollups' raw_window_s)."""
    end = end if end is not None else time.time()
    start = start if start is not None else end - 3600.0
    if end <= start:
        raise HTTPException(422, "end must be after start")
    most = console.config.history_max_points
    if step and (end - start) / step > most:
        raise HTTPException(422, f"{(end - start) / step:.0f} buckets asked; at most {most}")
    if from_rollups(start, end, step):
        steps = await read_store(
            console.reader.steps,
            device_id,
            int(start * 1e9),
            int(end * 1e9),
            int(step),
            rollup_settings(),
        )
        if not steps and device_id not in console.feed.state.readings:
            raise HTTPException(404, f"no reading of device {device_id!r}")
        points = step_points(steps, aggregate)
        return {
            "device_id": device_id,
            "start": start,
            "end": end,
            "step": step,
            "aggregate": aggregate,
            "truncated": False,
            "points": points,
        }
    readings = await read_store(console.reader.history, device_id, int(start * 1e9), int(end * 1e9))
    if not readings and device_id not in console.feed.state.readings:
        raise HTTPException(404, f"no reading of device {device_id!r}")
    truncated = not step and len(readings) > most
    points = (
        aggregate_points(readings, start, step, aggregate) if step else raw_points(readings[-most:])
    )
    return {
        "device_id": device_id,
        "start": start,
        "end": end,
        "step": step,
        "aggregate": aggregate if step else None,
        "truncated": truncated,
        "points": points,
    }


@router.get("/stream", tags=["live"])
async def stream(
    since: int | None = Query(None, description="Last batch number seen; omit for a snapshot."),
    last_event_id: str | None = Header(None, description="Set by a reconnecting client."),
    console: Console = Depends(console_of),
) -> EventSourceResponse:
    """Server-sent events: a `snapshot`, then an `update` per batch of changes."""
    feed = console.feed
    events = page_events(
        feed, parse_since(last_event_id, since), console.config.min_push_interval_s
    )

    async def counted() -> AsyncIterator[dict[str, str]]:
        feed.clients += 1
        try:
            async for event in events:
                yield event
        finally:
            feed.clients -= 1

    return EventSourceResponse(counted(), ping=10, send_timeout=10, sep="\n")
