"""`/healthz`: can the store be read, and how old are the last reading and the last plan."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from dashboard.console import Console, console_of
from dashboard.reader import StoreReader
from territory.store import StoreUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(description="ok, or unavailable when the store cannot be read.")
    last_reading_age_s: float | None = Field(
        description="Seconds since the newest reading was stored; null with no reading yet."
    )
    last_plan_age_s: float | None = Field(
        description="Seconds since the newest plan was made; null with no plan yet."
    )
    detail: str | None = Field(default=None, description="Why the store cannot be read.")


def read_health(reader: StoreReader) -> Health:
    now = time.time()
    try:
        arrival_ns = reader.newest_arrival_ns()
        plan = reader.newest_plan_stamp()
    except StoreUnavailable as exc:
        reader.reset()
        return Health(
            status="unavailable", last_reading_age_s=None, last_plan_age_s=None, detail=str(exc)
        )
    return Health(
        status="ok",
        last_reading_age_s=None if arrival_ns is None else round(now - arrival_ns / 1e9, 3),
        last_plan_age_s=None if plan is None else round(now - plan[1], 3),
    )


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The store cannot be read."}},
)
async def healthz(console: Console = Depends(console_of)) -> Any:
    health = await asyncio.to_thread(read_health, console.reader)
    status = 200 if health.status == "ok" else 503
    return JSONResponse(health.model_dump(), status_code=status)
