"""`/metrics` and `/healthz` of one ingest worker, on a port of its own."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def serve_status(
    host: str,
    port: int,
    registry: CollectorRegistry,
    health: Callable[[], tuple[bool, dict[str, object]]],
) -> ThreadingHTTPServer:
    """Start a daemon HTTP server; `health()` returns (ok, details)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok, details = health()
                body = json.dumps({"status": "ok" if ok else "degraded", **details}).encode()
                self._reply(200 if ok else 503, body, "application/json")
            else:
                self._reply(404, b"not found", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # scrapes every few seconds would drown the worker's own log

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="ingest-status", daemon=True).start()
    return server
