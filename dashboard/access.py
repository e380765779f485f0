"""Who may do what: bearer tokens with a role, a rate limit per token, a body size limit.

Every /api route depends on `viewer` or `operator`. A missing or unknown token is a 401,
a viewer asking for an operator's route a 403, a token over its rate a 429. With no token
configured at all every caller is an operator (meant for a console on a loopback address).
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.config import ConsoleConfig, RateLimit, Role
from dashboard.console import Console, console_of


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role


class TokenBuckets:
    """A token bucket per caller: `burst` requests at once, refilled at `per_minute`."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """Take one request; 0 when allowed, else the seconds until one is allowed."""
        now = time.monotonic() if now is None else now
        rate = self.limit.per_minute / 60.0
        with self._lock:
            level, then = self._buckets.get(key, (float(self.limit.burst), now))
            level = min(float(self.limit.burst), level + (now - then) * rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                return (1.0 - level) / rate
            self._buckets[key] = (level - 1.0, now)
            return 0.0


def _identify(config: ConsoleConfig, authorization: str | None) -> Caller:
    if not config.tokens:
        return Caller(name="anyone", role="operator")
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise HTTPException(
            401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    for spec in config.tokens:
        if hmac.compare_digest(spec.token.get_secret_value().encode(), presented.strip().encode()):
            return Caller(name=spec.name, role=spec.role)
    raise HTTPException(
        401, "unknown token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def viewer(request: Request, console: Console = Depends(console_of)) -> Caller:
    """Any known token (read access), within its rate limit."""
    caller = _identify(console.config, request.headers.get("authorization"))
    buckets: TokenBuckets = request.app.state.rate_limits
    wait = buckets.take(caller.name)
    if wait > 0:
        raise HTTPException(
            429, "too many requests for this token", headers={"Retry-After": str(math.ceil(wait))}
        )
    return caller


def operator(caller: Caller = Depends(viewer)) -> Caller:
    """A token with the operator role: may trigger optimiser runs."""
    if caller.role != "operator":
        raise HTTPException(403, f"{caller.name} is a {caller.role}; this needs an operator")
    return caller


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, declared or streamed.

    A body with no declared length (chunked) is read here first, at most `max_bytes` of it,
    and handed on whole: the bodies this API takes are small.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _too_large(send, self.max_bytes)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, max_bytes: int) -> None:
    body = f'{{"detail":"request body over {max_bytes} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
