"""Security headers on every response, the page's, the API's, the static files' and errors'.

The page loads only its own scripts and styles (no inline script, no inline handler, no
outside address), so its policy allows 'self' and nothing else; no page of the console may
be framed. A route that needs another policy (the API's /docs) sets its own, which is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
# Only over HTTPS: a browser ignores it over plain HTTP, and a console moved from HTTPS back
# to HTTP on the same name would be unreachable for a year.
STRICT_TRANSPORT = (b"strict-transport-security", b"max-age=31536000")
# API answers hold the territory's state: not for shared caches nor the browser's disk.
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """ASGI middleware: adds each header of HEADERS a response does not already carry."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = list(HEADERS)
        if scope.get("scheme") == "https":
            wanted.append(STRICT_TRANSPORT)
        if str(scope.get("path", "")).startswith("/api/"):
            wanted.append(NO_STORE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
