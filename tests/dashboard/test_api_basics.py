"""The console's REST routes and /healthz against a real uvicorn and a real SQLite file."""

from __future__ import annotations

import time
from pathlib import Path

from dashboard.app import create_app
from territory.store.sqlite import SqliteStore
from tests.dashboard.helpers import (
    VIEWER_TOKEN,
    ConsoleServer,
    secured_config,
    seed,
    serve,
    start_app,
)


def test_healthz_gives_the_age_of_the_last_reading_and_plan(secured: ConsoleServer) -> None:
    with secured.client() as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert 0 <= body["last_reading_age_s"] < 600
    assert 0 <= body["last_plan_age_s"] < 600


def test_healthz_on_an_empty_store_has_no_ages(tmp_path: Path) -> None:
    running = serve(tmp_path / "empty.db")
    try:
        with running.client() as http:
            body = http.get("/healthz").json()
        assert body["status"] == "ok"
        assert body["last_reading_age_s"] is None
        assert body["last_plan_age_s"] is None
    finally:
        running.stop()
        running.store.close()


def test_healthz_is_503_while_the_store_cannot_be_opened_and_recovers(tmp_path: Path) -> None:
    blocked = tmp_path / "territory.db"
    blocked.mkdir()  # a folder where the database file should be: SQLite cannot open it
    app = create_app(f"sqlite:///{blocked}", config=secured_config())
    running = start_app(app)
    try:
        with running.client(VIEWER_TOKEN) as http:
            response = http.get("/healthz")
            assert response.status_code == 503
            assert response.json()["status"] == "unavailable"
            assert http.get("/api/devices").status_code == 503

            blocked.rmdir()
            seed(SqliteStore(blocked))
            response = http.get("/healthz")
            assert response.status_code == 200
            assert len(http.get("/api/devices").json()) == 5
    finally:
        running.stop()


def test_devices_lists_the_newest_reading_of_every_device(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        everything = http.get("/api/devices").json()
        stations = http.get("/api/devices", params={"kind": "bike_station", "zone": "north"})
    by_id = {r["device_id"]: r for r in everything}
    assert set(by_id) == {"st-north-1", "st-north-2", "st-south-1", "fd-north", "air-south"}
    assert by_id["fd-north"]["fields"] == {"activePower": 250.0, "powerLimit": 400.0}
    assert [r["device_id"] for r in stations.json()] == ["st-north-1", "st-north-2"]


def test_latest_plans_has_one_plan_per_domain(secured: ConsoleServer) -> None:
    secured.store.write_plan(
        secured.store.plans("energy")[0].model_copy(update={"created": time.time() + 1})
    )
    with secured.client(VIEWER_TOKEN) as http:
        plans = http.get("/api/plans/latest").json()
    assert list(plans) == ["energy"]
    assert plans["energy"]["body"]["kpis"] == {"peak_kw_saved": 42.0}
    assert plans["energy"]["created"] > time.time() - 60


def test_territory_derives_zones_from_readings_without_a_scenario(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        territory = http.get("/api/territory").json()
    assert territory["from_inventory"] is False
    assert [z["id"] for z in territory["zones"]] == ["north", "south"]


def test_the_page_and_its_scripts_are_served_without_any_outside_address(
    secured: ConsoleServer,
) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "http://" not in page.text and "https://" not in page.text
        for asset in (
            "/static/js/main.js",
            "/static/vendor/uPlot.iife.min.js",
            "/static/style.css",
        ):
            assert http.get(asset).status_code == 200
