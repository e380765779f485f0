"""What the open-data routes share: their settings, the public rate limit, the inventory,
and the positions of devices on the Earth."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, HTTPException, Request

from dashboard.console import Console, console_of
from dashboard.opendata.config import OpenDataConfig
from dashboard.throttle import TokenBuckets
from territory.inventory import Device, Inventory
from territory.store import StoreUnavailable


@dataclass
class OpenData:
    """Held in `app.state.opendata`."""

    config: OpenDataConfig
    buckets: TokenBuckets
    # Computed indicator tables, (dataset, first hour, end) -> (expires at, cells): a
    # table reads hours of history of every device it covers.
    tables: dict[tuple[str, int, int], tuple[float, list[dict[str, Any]]]] = field(
        default_factory=dict
    )


def opendata_of(request: Request) -> OpenData:
    found: OpenData = request.app.state.opendata
    return found


def public(request: Request, opendata: OpenData = Depends(opendata_of)) -> None:
    """A token-free route, limited per client address."""
    client = request.client.host if request.client else "unknown"
    wait = opendata.buckets.take(f"public:{client}")
    if wait > 0:
        raise HTTPException(
            429,
            "too many requests from this address",
            headers={"Retry-After": str(math.ceil(wait))},
        )


def inventory_of(console: Console = Depends(console_of)) -> Inventory:
    """The inventory the console obeys; open data is published only from one."""
    if console.territory.inventory is None:
        raise HTTPException(503, "the console runs without an inventory: nothing to publish")
    return console.territory.inventory


def position(device: Device, config: OpenDataConfig) -> tuple[float, float] | None:
    """(latitude, longitude) of a device, when the map has an origin and the device a place."""
    if config.origin is None or device.x is None or device.y is None:
        return None
    latitude, longitude = config.origin.to_degrees(device.x, device.y)
    return round(latitude, 6), round(longitude, 6)


def base_url(request: Request, config: OpenDataConfig) -> str:
    return (config.public_url or str(request.base_url)).rstrip("/")


async def blocking(function: Any, *args: Any) -> Any:
    """A store read off the event loop; a store failure becomes a 503."""
    try:
        return await asyncio.to_thread(function, *args)
    except StoreUnavailable as exc:
        raise HTTPException(503, f"store unavailable: {exc}") from exc
