"""`GET /api/audit`: the audit log, for operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from dashboard.access import operator
from dashboard.api import read_store
from dashboard.console import Console, console_of
from territory.store import AuditEntry

router = APIRouter(prefix="/api", dependencies=[Depends(operator)])


@router.get("/audit", response_model=list[AuditEntry], tags=["access"])
async def audit(
    since: float | None = Query(None, description="Only entries at or after this epoch second."),
    limit: int = Query(200, ge=1, le=10_000, description="How many, newest first."),
    console: Console = Depends(console_of),
) -> list[Any]:
    """Who signed in or was refused, from which address, and who triggered which run
    (operators only). A refused token is never recorded, only that one was refused."""
    found: list[Any] = await read_store(console.reader.audit, since=since, limit=limit)
    return found
