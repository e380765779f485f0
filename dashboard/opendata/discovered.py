"""Stations a GBFS bridge found outside the inventory, shown to operators (viewer token)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from dashboard.access import viewer
from dashboard.console import Console, console_of
from dashboard.opendata.common import OpenData, opendata_of
from territory.discovered import load_discovered
from territory.documents import DocumentError

router = APIRouter(prefix="/api", tags=["territory"], dependencies=[Depends(viewer)])


@router.get("/discovered", summary="Devices seen by a bridge and not yet in the inventory")
async def discovered(
    opendata: OpenData = Depends(opendata_of), console: Console = Depends(console_of)
) -> list[dict[str, Any]]:
    """Each one as the inventory device it would be, with where and when it was seen;
    those the inventory has listed since are left out."""
    path = opendata.config.discovered_file
    try:
        found = await asyncio.to_thread(load_discovered, path)
    except DocumentError as exc:
        raise HTTPException(503, f"cannot read the discovered-devices file: {exc}") from exc
    inventory = console.territory.inventory
    listed = set(inventory.by_id) if inventory is not None else set()
    return [
        {**entry.model_dump(mode="json"), "status": "discovered"}
        for entry in found.devices
        if entry.device.id not in listed
    ]
