"""Plans, alerts and optimiser runs under /api."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from dashboard.access import Caller, operator, viewer
from dashboard.api import read_store
from dashboard.console import Console, console_of
from dashboard.live import DOMAINS
from dashboard.optimise import AlreadyRunning
from dashboard.reader import plan_json
from dashboard.schemas import AlertOut, PlanOut, RunOut

router = APIRouter(prefix="/api", dependencies=[Depends(viewer)])


@router.get("/plans/latest", response_model=dict[str, PlanOut], tags=["plans"])
async def latest_plans(console: Console = Depends(console_of)) -> dict[str, Any]:
    """The last plan of each domain."""
    plans = await read_store(console.reader.last_plans, DOMAINS)
    return {domain: plan_json(plan) for domain, plan in plans.items()}


@router.get("/plans", response_model=list[PlanOut], tags=["plans"])
async def plans(
    domain: str | None = Query(None, description="Only this domain."),
    limit: int = Query(50, ge=1, le=1000, description="How many, newest first."),
    console: Console = Depends(console_of),
) -> list[dict[str, Any]]:
    """The history of optimiser runs: status, solve time, fallback, KPIs; newest first."""
    found = await read_store(console.reader.plans, domain=domain, limit=limit)
    return [plan_json(plan) for plan in found]


@router.get("/alerts", response_model=list[AlertOut], tags=["alerts"])
async def alerts(
    state: Literal["open", "cleared", "all"] = Query("open", description="Which alerts."),
    zone: str | None = Query(None, description="Only this zone."),
    device_id: str | None = Query(None, description="Only this device."),
    limit: int = Query(500, ge=1, le=10_000, description="How many, newest first."),
    console: Console = Depends(console_of),
) -> list[dict[str, Any]]:
    """Open alerts (newest raised first) and/or cleared ones (newest cleared first)."""
    book = console.alerts
    found: list[dict[str, Any]] = []
    if state in ("open", "all"):
        found += sorted(book.open.values(), key=lambda a: -float(a["raised"]))
    if state in ("cleared", "all"):
        found += list(book.cleared)
    found = [
        a
        for a in found
        if (zone is None or a["zone"] == zone)
        and (device_id is None or a["device_id"] == device_id)
    ]
    return found[:limit]


@router.post(
    "/optimise/{domain}",
    response_model=RunOut,
    status_code=202,
    tags=["plans"],
    responses={409: {"description": "A run of this domain is under way."}},
)
async def optimise(
    domain: str = Path(description="energy, mobility or slots."),
    caller: Caller = Depends(operator),
    console: Console = Depends(console_of),
) -> dict[str, Any]:
    """Run the optimiser for one domain now (operators only). The new plan arrives on the
    stream and in /api/plans once stored; the run itself is in /api/optimise/runs."""
    if domain not in DOMAINS:
        raise HTTPException(404, f"unknown domain {domain!r}: one of {', '.join(DOMAINS)}")
    try:
        run = console.runs.start(domain, requested_by=caller.name, requested_from=caller.client)
    except AlreadyRunning as exc:
        raise HTTPException(409, str(exc)) from exc
    await console.audit.record(
        "optimise.requested",
        client=caller.client,
        actor=caller.name,
        role=caller.role,
        detail=f"run {run.id} {domain}",
    )
    return run.as_json()


@router.get("/optimise/runs", response_model=list[RunOut], tags=["plans"])
async def optimise_runs(console: Console = Depends(console_of)) -> list[dict[str, Any]]:
    """Runs triggered from the console, newest first."""
    return [run.as_json() for run in console.runs.runs]
