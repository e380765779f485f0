"""Helpers for the console tests: a console served by a real uvicorn on a free port over a
real SQLite store, seeded readings, and the events of an SSE stream.

The tokens are made afresh for each test session, as `territory secure token` makes them;
the console's configuration holds only their hashes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from dashboard.app import create_app
from dashboard.config import ConsoleConfig
from territory.readings import Reading
from territory.store import Plan
from territory.store.sqlite import SqliteStore
from territory.tokens import hash_token, new_token
from tests.services import free_port

VIEWER_TOKEN = new_token()
OPERATOR_TOKEN = new_token()


def reading(
    device_id: str, kind: str, zone: str, seq: int, ts: float | None = None, **fields: Any
) -> Reading:
    """A reading as ingest would store it, timestamped now unless told otherwise."""
    now = time.time()
    return Reading(
        kind=kind,
        zone=zone,
        device_id=device_id,
        ts_ns=int((ts if ts is not None else now) * 1e9),
        seq=seq,
        fields=fields,
        arrival_ns=int(now * 1e9),
    )


def station(device_id: str, zone: str, seq: int, bikes: int, total: int = 20) -> Reading:
    return reading(
        device_id,
        "bike_station",
        zone,
        seq,
        availableBikeNumber=bikes,
        freeSlotNumber=total - bikes,
        totalSlotNumber=total,
    )


def feeder(device_id: str, zone: str, seq: int, load: float, limit: float = 400.0) -> Reading:
    return reading(device_id, "feeder", zone, seq, activePower=load, powerLimit=limit)


def plan(domain: str, created: float | None = None, **kpis: float) -> Plan:
    return Plan(
        domain=domain,
        created=created if created is not None else time.time(),
        status="optimal",
        body={"kpis": kpis, "solve_ms": 12.5, "fallback": False},
    )


def seed(store: SqliteStore) -> None:
    """A small territory: two zones with stations, a feeder, an air station, one plan."""
    store.write(
        [
            station("st-north-1", "north", 1, bikes=7),
            station("st-north-2", "north", 1, bikes=0),
            station("st-south-1", "south", 1, bikes=12),
            feeder("fd-north", "north", 1, load=250.0),
            reading("air-south", "air", "south", 1, pm25=8.0, pm10=15.0, no2=20.0),
        ]
    )
    store.write_plan(plan("energy", peak_kw_saved=42.0))


@dataclass
class RunningApp:
    """An ASGI app served by uvicorn in a thread on a free port."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, token: str | None = None, timeout: float = 10.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_app(app: Any) -> RunningApp:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
        )
    )
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the console did not start")
        time.sleep(0.02)
    return RunningApp(f"http://127.0.0.1:{port}", server, thread)


@dataclass
class ConsoleServer(RunningApp):
    """A running console and the store it reads (the test writes into it)."""

    store: SqliteStore = field(kw_only=True)
    store_url: str = field(kw_only=True)


def serve(store_path: Path, config: ConsoleConfig | None = None, **kwargs: Any) -> ConsoleServer:
    store = SqliteStore(store_path)
    store_url = f"sqlite:///{store_path}"
    app = create_app(store_url, config=config or secured_config(), **kwargs)
    running = start_app(app)
    return ConsoleServer(
        running.url, running.server, running.thread, store=store, store_url=store_url
    )


# A stand-in for the optimiser's one-tick command: it stores a plan for the domain it is
# given, as `territory optimise --once` does, so a triggered run can be followed end to end.
STAND_IN_OPTIMISER = """
import sys, time
from territory.store import Plan
from territory.store.sqlite import SqliteStore
domain, url = sys.argv[1], sys.argv[2]
store = SqliteStore.from_url(url)
store.write_plan(Plan(domain=domain, created=time.time(), status="optimal",
                      body={"kpis": {"triggered": 1.0}, "solve_ms": 3.0, "fallback": False}))
store.close()
print("stored a", domain, "plan")
"""


def secured_config(**overrides: Any) -> ConsoleConfig:
    """Two tokens, a fast poll, and a stand-in optimiser command writing into the store."""
    settings: dict[str, Any] = {
        "tokens": [
            {"name": "vera", "role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
            {"name": "otto", "role": "operator", "token_hash": hash_token(OPERATOR_TOKEN)},
        ],
        "poll_s": 0.2,
        "optimise_command": ["{python}", "-c", STAND_IN_OPTIMISER, "{domain}", "{store}"],
    }
    settings.update(overrides)
    return ConsoleConfig.model_validate(settings)


def events(response: httpx.Response) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(event, id, data) of each event on an open SSE response."""
    kind, event_id, data = "message", "", []
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield kind, event_id, json.loads("\n".join(data))
            kind, event_id, data = "message", "", []
