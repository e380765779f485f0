"""GBFS systems of every version, written as an operator would publish them, and a real
HTTP server that serves them (ETag and Last-Modified, a file that can be slow)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSIONS = ("1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "3.0")


@dataclass
class Station:
    """One station as the operator describes it, in any version."""

    station_id: str
    name: str
    lat: float
    lon: float
    capacity: int | None
    bikes: int
    docks: int
    disabled: int | None = None
    installed: bool = True
    renting: bool = True
    returning: bool = True
    reported: int = 0  # epoch seconds


def _time(version: str, seconds: int) -> int | str:
    if version == "3.0":
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    return seconds


def _flag(version: str, value: bool) -> bool | int:
    return int(value) if version == "1.1" else value


def _envelope(version: str, now: int, ttl: int, data: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"last_updated": _time(version, now), "ttl": ttl, "data": data}
    if version != "1.0":
        document["version"] = version
    return document


def system_files(
    version: str, base: str, stations: list[Station], now: int, ttl: int = 0
) -> dict[str, dict[str, Any]]:
    """path → document of a whole system (gbfs.json, system, station information, status)."""
    names = ("system_information", "station_information", "station_status")
    feed_list = [{"name": name, "url": f"{base}/{name}.json"} for name in names]
    if version == "3.0":
        discovery: dict[str, Any] = {"feeds": feed_list}
    else:
        discovery = {"fr": {"feeds": feed_list}, "en": {"feeds": feed_list}}
    return {
        "/gbfs.json": _envelope(version, now, ttl, discovery),
        "/system_information.json": _envelope(version, now, ttl, _system(version)),
        "/station_information.json": _envelope(
            version, now, ttl, {"stations": [_information(version, s) for s in stations]}
        ),
        "/station_status.json": _envelope(
            version, now, ttl, {"stations": [_status(version, s) for s in stations]}
        ),
    }


def _system(version: str) -> dict[str, Any]:
    if version == "3.0":
        return {
            "system_id": "velo-test",
            "languages": ["fr"],
            "name": [{"text": "Vélo Test", "language": "fr"}],
            "opening_hours": "24/7",
            "feed_contact_email": "gbfs@example.org",
            "timezone": "Europe/Paris",
        }
    data = {
        "system_id": "velo-test",
        "language": "fr",
        "name": "Vélo Test",
        "timezone": "Europe/Paris",
    }
    return data


def _information(version: str, station: Station) -> dict[str, Any]:
    name: Any = station.name
    if version == "3.0":
        name = [{"text": station.name, "language": "fr"}]
    found: dict[str, Any] = {
        "station_id": station.station_id,
        "name": name,
        "lat": station.lat,
        "lon": station.lon,
    }
    if station.capacity is not None:
        found["capacity"] = station.capacity
    return found


def _status(version: str, station: Station) -> dict[str, Any]:
    vehicles = "num_vehicles_available" if version == "3.0" else "num_bikes_available"
    found: dict[str, Any] = {
        "station_id": station.station_id,
        vehicles: station.bikes,
        "num_docks_available": station.docks,
        "is_installed": _flag(version, station.installed),
        "is_renting": _flag(version, station.renting),
        "is_returning": _flag(version, station.returning),
        "last_reported": _time(version, station.reported),
    }
    if station.disabled is not None:
        found["num_docks_disabled"] = station.disabled
    return found


@dataclass
class FeedServer:
    """A real HTTP server on a free loopback port serving `files` (path → JSON document or
    raw bytes); paths in `slow` answer only after `slow_s` seconds."""

    files: dict[str, Any] = field(default_factory=dict)
    slow: set[str] = field(default_factory=set)
    slow_s: float = 3.0
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, status)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def body(self, path: str) -> bytes | None:
        document = self.files.get(path)
        if document is None:
            return None
        return document if isinstance(document, bytes) else json.dumps(document).encode()

    def served(self, path: str, status: int | None = None) -> int:
        return sum(1 for p, s in self.requests if p == path and (status is None or s == status))


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path in server.slow:
                time.sleep(server.slow_s)
            body = server.body(path)
            if body is None:
                self._answer(404, b"not found", {})
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._answer(304, b"", {"ETag": etag})
                return
            headers = {"ETag": etag, "Last-Modified": formatdate(usegmt=True)}
            self._answer(200, body, {"Content-Type": "application/json", **headers})

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            server.requests.append((self.path.split("?")[0], status))
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(server: FeedServer) -> Iterator[FeedServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
