"""Who may do what: bearer tokens with a role, checked against their hashes.

Every /api route depends on `viewer` or `operator`, /metrics and /docs on `viewer` unless
configured public. In order: an address turned away for refused tokens gets a 429 before
its token is looked at; a missing token is a 401; a token matching no configured hash is a
401, counted against the address and written to the audit log; a viewer asking for an
operator's route is a 403; a token over its request rate is a 429. There is no open mode:
a console without tokens does not start (`create_app` refuses it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from dashboard.config import Role, TokenSpec
from dashboard.console import Console, console_of
from territory.tokens import matches


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role
    client: str


def client_address(request: Request) -> str:
    """The address the request came from (behind a proxy, as uvicorn was told to trust)."""
    return request.client.host if request.client else "unknown"


def _presented(authorization: str | None) -> str:
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise HTTPException(
            401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return presented.strip()


def _holder(tokens: list[TokenSpec], presented: str) -> TokenSpec | None:
    # Every hash is checked, not only up to the first match: the time taken does not tell
    # which configured token (if any) was presented.
    found = None
    for spec in tokens:
        if matches(presented, spec.token_hash):
            found = spec
    return found


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


async def viewer(request: Request, console: Console = Depends(console_of)) -> Caller:
    """Any known token (read access), within its rate limit."""
    client = client_address(request)
    wait = console.sign_ins.wait_s(client)
    if wait > 0:
        raise HTTPException(429, "too many refused tokens from this address", _retry_after(wait))
    presented = _presented(request.headers.get("authorization"))
    holder = _holder(console.config.tokens, presented)
    if holder is None:
        await _refuse(console, client)
        raise HTTPException(
            401, "unknown token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    caller = Caller(name=holder.name, role=holder.role, client=client)
    await console.audit.signed_in(caller.name, caller.role, client)
    wait = console.rate_limits.take(caller.name)
    if wait > 0:
        raise HTTPException(429, "too many requests for this token", _retry_after(wait))
    return caller


async def _refuse(console: Console, client: str) -> None:
    turned_away = console.sign_ins.refused(client)
    await console.audit.record("signin.failed", client=client)
    if turned_away:
        limit = console.config.sign_in_limit
        await console.audit.record(
            "signin.blocked",
            client=client,
            detail=f"{limit.failures} refused tokens within {limit.window_s:g} s",
        )


async def operator(
    caller: Caller = Depends(viewer), console: Console = Depends(console_of)
) -> Caller:
    """A token with the operator role: may trigger optimiser runs and read the audit log."""
    if caller.role != "operator":
        await console.audit.record(
            "access.refused",
            client=caller.client,
            actor=caller.name,
            role=caller.role,
            detail="an operator's route",
        )
        raise HTTPException(403, f"{caller.name} is a {caller.role}; this needs an operator")
    return caller


async def metrics_reader(request: Request, console: Console = Depends(console_of)) -> None:
    """/metrics: a viewer's token, unless the configuration makes it public."""
    if not console.config.public_metrics:
        await viewer(request, console)


async def docs_reader(request: Request, console: Console = Depends(console_of)) -> None:
    """/docs and /openapi.json: a viewer's token, unless the configuration makes them public."""
    if not console.config.public_docs:
        await viewer(request, console)
