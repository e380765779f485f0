"""Access to every route: 401 without or with a bad token, 403 for the wrong role, 413, 429."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from territory.store.sqlite import SqliteStore
from tests.dashboard.helpers import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    ConsoleServer,
    secured_config,
    seed,
    serve,
)

READ_ROUTES = [
    "/api/whoami",
    "/api/territory",
    "/api/zones",
    "/api/corridors",
    "/api/devices",
    "/api/devices/st-north-1",
    "/api/devices/st-north-1/history",
    "/api/plans/latest",
    "/api/plans",
    "/api/alerts",
    "/api/optimise/runs",
]


@pytest.mark.parametrize("route", [*READ_ROUTES, "/api/stream"])
def test_every_api_route_wants_a_known_token(secured: ConsoleServer, route: str) -> None:
    with secured.client() as anonymous, secured.client("not-a-token-at-all") as stranger:
        missing, bad = anonymous.get(route), stranger.get(route)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert bad.status_code == 401


@pytest.mark.parametrize("route", READ_ROUTES)
def test_a_viewer_and_an_operator_may_read_every_route(secured: ConsoleServer, route: str) -> None:
    with secured.client(VIEWER_TOKEN) as viewer, secured.client(OPERATOR_TOKEN) as operator:
        assert viewer.get(route).status_code == 200
        assert operator.get(route).status_code == 200


def test_the_stream_opens_with_a_viewer_token(secured: ConsoleServer) -> None:
    with (
        secured.client(VIEWER_TOKEN) as viewer,
        viewer.stream("GET", "/api/stream") as response,
    ):
        assert response.status_code == 200


def test_only_an_operator_may_trigger_a_run(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as viewer, secured.client() as anonymous:
        assert anonymous.post("/api/optimise/energy").status_code == 401
        refused = viewer.post("/api/optimise/energy")
    assert refused.status_code == 403
    assert "operator" in refused.json()["detail"]
    with secured.client(OPERATOR_TOKEN) as operator:
        assert operator.post("/api/optimise/energy").status_code == 202


def test_whoami_names_the_role(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as viewer, secured.client(OPERATOR_TOKEN) as operator:
        assert viewer.get("/api/whoami").json() == {"name": "vera", "role": "viewer"}
        assert operator.get("/api/whoami").json()["role"] == "operator"


def test_health_and_the_page_need_no_token_but_metrics_and_docs_do(
    secured: ConsoleServer,
) -> None:
    with secured.client() as anonymous, secured.client(VIEWER_TOKEN) as viewer:
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/").status_code == 200
        for route in ("/metrics", "/docs", "/openapi.json"):
            assert anonymous.get(route).status_code == 401, route
            assert viewer.get(route).status_code == 200, route
        assert "territory_console_tokens_refused" in viewer.get("/metrics").text
        assert "/api/audit" in viewer.get("/openapi.json").json()["paths"]


def test_metrics_and_docs_may_be_configured_public(tmp_path: Path) -> None:
    running = serve(tmp_path / "t.db", secured_config(public_metrics=True, public_docs=True))
    try:
        with running.client() as anonymous:
            for route in ("/metrics", "/docs", "/openapi.json"):
                assert anonymous.get(route).status_code == 200, route
            assert anonymous.get("/api/zones").status_code == 401
    finally:
        running.stop()
        running.store.close()


def test_a_request_body_over_the_limit_is_413(secured: ConsoleServer) -> None:
    with secured.client(OPERATOR_TOKEN) as operator:
        declared = operator.post("/api/optimise/energy", content=b"x" * 20_000)

        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                yield b"y" * 1000

        streamed = operator.post("/api/optimise/mobility", content=chunks())
    assert declared.status_code == 413
    assert streamed.status_code == 413


def test_requests_over_the_rate_are_429_per_token(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "territory.db")
    seed(store)
    store.close()
    running = serve(
        tmp_path / "territory.db", secured_config(rate_limit={"per_minute": 1, "burst": 3})
    )
    try:
        with running.client(VIEWER_TOKEN) as viewer, running.client(OPERATOR_TOKEN) as operator:
            answers = [viewer.get("/api/zones").status_code for _ in range(4)]
            limited = viewer.get("/api/zones")
            other = operator.get("/api/zones")
        assert answers[:3] == [200, 200, 200]
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert other.status_code == 200  # the limit is per token
    finally:
        running.stop()
        running.store.close()
