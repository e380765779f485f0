"""What each API route returns, against a real uvicorn and a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from territory.settings import RollupSettings
from territory.store.maintenance import rollup_engine
from tests.dashboard.helpers import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    ConsoleServer,
    events,
    feeder,
    plan,
    reading,
)


def wait_for(
    client: httpx.Client, route: str, check: Callable[[Any], bool], attempts: int = 100
) -> Any:
    """Poll a route until `check(json)` holds (the console polls its store in the background)."""
    for _ in range(attempts):
        body = client.get(route).json()
        if check(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{route} never satisfied the check; last: {body}")


def test_zones_carry_headline_figures_and_state(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        zones = {z["id"]: z for z in http.get("/api/zones").json()}
    assert zones["north"]["bikes_available"] == 7
    assert zones["north"]["bikes_capacity"] == 40
    assert zones["north"]["feeder_load_kw"] == 250.0
    assert zones["north"]["feeder_limit_kw"] == 400.0
    assert zones["north"]["state"] == "warning"  # st-north-2 is empty
    assert zones["south"]["air"] == "good"
    assert zones["south"]["state"] == "ok"


def test_one_device_and_an_unknown_one(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        found = http.get("/api/devices/fd-north")
        missing = http.get("/api/devices/nothing-here")
    assert found.json()["fields"]["activePower"] == 250.0
    assert missing.status_code == 404


def test_history_raw_and_aggregated(secured: ConsoleServer) -> None:
    start = time.time() - 600
    secured.store.write(
        [
            reading(
                "fd-x",
                "feeder",
                "north",
                seq,
                ts=start + 10 * seq,
                activePower=float(seq),
                powerLimit=400.0,
            )
            for seq in range(12)  # ts start+0 .. start+110
        ]
    )
    with secured.client(VIEWER_TOKEN) as http:
        raw = http.get("/api/devices/fd-x/history", params={"start": start, "end": start + 60})
        mean = http.get(
            "/api/devices/fd-x/history",
            params={"start": start, "end": start + 120, "step": 60, "aggregate": "mean"},
        )
        most = http.get(
            "/api/devices/fd-x/history",
            params={"start": start, "end": start + 120, "step": 60, "aggregate": "max"},
        )
        backwards = http.get("/api/devices/fd-x/history", params={"start": start, "end": start - 1})
        too_fine = http.get(
            "/api/devices/fd-x/history", params={"start": 0, "end": time.time(), "step": 1}
        )
        bad_aggregate = http.get(
            "/api/devices/fd-x/history", params={"step": 60, "aggregate": "avg"}
        )
    assert [p["activePower"] for p in raw.json()["points"]] == [0, 1, 2, 3, 4, 5]
    # Buckets [start, start+60) and [start+60, start+120): means of 0..5 and 6..11.
    assert [p["activePower"] for p in mean.json()["points"]] == [2.5, 8.5]
    assert [p["n"] for p in mean.json()["points"]] == [6, 6]
    assert [p["activePower"] for p in most.json()["points"]] == [5, 11]
    assert backwards.status_code == 422
    assert too_fine.status_code == 422
    assert bad_aggregate.status_code == 422


def test_history_of_long_windows_comes_from_rollups(secured: ConsoleServer) -> None:
    hour = int(time.time()) // 3600 * 3600
    start = hour - 2 * 86_400  # two days, a reading every 10 minutes
    secured.store.write(
        [
            reading(
                "fd-z",
                "feeder",
                "north",
                seq,
                ts=start + 600 * seq,
                activePower=float(seq),
                powerLimit=400.0,
            )
            for seq in range(2 * 144)
        ]
    )
    rollup_engine(secured.store, RollupSettings()).refresh(time.time_ns(), max_bins=1000)
    params = {"start": start, "end": hour, "step": 3600, "aggregate": "max"}
    with secured.client(VIEWER_TOKEN) as http:
        hourly = http.get("/api/devices/fd-z/history", params=params).json()
        counts = http.get(
            "/api/devices/fd-z/history", params={**params, "aggregate": "count"}
        ).json()
    assert len(hourly["points"]) == 48 and not hourly["truncated"]
    assert [p["ts"] for p in hourly["points"]] == [start + 3600 * h for h in range(48)]
    assert [p["activePower"] for p in hourly["points"]] == [6 * h + 5.0 for h in range(48)]
    assert {p["activePower"] for p in counts["points"]} == {6.0}


def test_plan_history_is_newest_first_and_filtered(secured: ConsoleServer) -> None:
    now = time.time()
    secured.store.write_plan(plan("mobility", created=now + 1, unmet_demand_saved=3.0))
    secured.store.write_plan(plan("energy", created=now + 2, peak_kw_saved=50.0))
    with secured.client(VIEWER_TOKEN) as http:
        every = http.get("/api/plans").json()
        energy = http.get("/api/plans", params={"domain": "energy", "limit": 1}).json()
        latest = http.get("/api/plans/latest").json()
    assert [p["domain"] for p in every] == ["energy", "mobility", "energy"]
    assert energy[0]["body"]["kpis"] == {"peak_kw_saved": 50.0}
    assert len(energy) == 1
    assert set(latest) == {"energy", "mobility"}


def test_alerts_are_raised_and_cleared_with_their_times(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        open_alerts = http.get("/api/alerts").json()
        assert [a["id"] for a in open_alerts] == ["empty:st-north-2"]
        assert open_alerts[0]["zone"] == "north" and open_alerts[0]["state"] == "open"

        secured.store.write([feeder("fd-north", "north", seq=2, load=450.0)])
        over = wait_for(http, "/api/alerts", lambda b: any(a["id"] == "feeder:fd-north" for a in b))
        [alert] = [a for a in over if a["id"] == "feeder:fd-north"]
        assert alert["severity"] == "critical" and alert["rule"] == "feeder_load"

        secured.store.write([feeder("fd-north", "north", seq=3, load=100.0)])
        wait_for(http, "/api/alerts", lambda b: all(a["id"] != "feeder:fd-north" for a in b))
        cleared = http.get("/api/alerts", params={"state": "cleared"}).json()
    assert cleared[0]["id"] == "feeder:fd-north"
    assert cleared[0]["state"] == "cleared"
    assert cleared[0]["raised"] <= cleared[0]["cleared"]


def test_a_triggered_run_stores_a_plan_that_reaches_the_stream(secured: ConsoleServer) -> None:
    with secured.client(OPERATOR_TOKEN) as http, http.stream("GET", "/api/stream") as response:
        stream = events(response)
        next(stream)  # the snapshot
        started = http.post("/api/optimise/mobility")
        assert started.status_code == 202
        assert started.json()["domain"] == "mobility"
        for kind, _, body in stream:
            if kind == "update" and "mobility" in body.get("plans", {}):
                break
        assert body["plans"]["mobility"]["body"]["kpis"] == {"triggered": 1.0}
        runs = wait_for(http, "/api/optimise/runs", lambda b: b[0]["state"] != "running")
    assert runs[0]["state"] == "succeeded", runs
    assert "stored a mobility plan" in runs[0]["output"]
    assert runs[0]["requested_by"] == "otto"


def test_an_unknown_domain_is_404(secured: ConsoleServer) -> None:
    with secured.client(OPERATOR_TOKEN) as http:
        assert http.post("/api/optimise/weather").status_code == 404


def test_metrics_speak_prometheus(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        text = http.get("/metrics").text
    assert "territory_console_devices 5.0" in text
    assert 'territory_console_alerts_open{rule="station_empty",severity="warning"} 1.0' in text
    assert "territory_console_polls_total" in text


def test_openapi_describes_the_routes(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        paths = http.get("/openapi.json").json()["paths"]
        assert http.get("/docs").status_code == 200
    assert {"/api/devices/{device_id}/history", "/api/optimise/{domain}", "/healthz"} <= set(paths)
