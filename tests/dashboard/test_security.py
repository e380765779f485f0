"""The console's defences against a real uvicorn: refused tokens per address (429), the
operator's routes (403), security headers everywhere, the body limit on chunked bodies,
and the audit log of who signed in and who ran what, in SQLite and in InfluxDB.

Client addresses: uvicorn believes `X-Forwarded-For` from 127.0.0.1 (its default trusted
proxy), so the tests speak from several addresses through it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from dashboard.app import create_app
from dashboard.headers import CONTENT_SECURITY_POLICY
from territory.store import AuditEntry, open_store
from territory.store.sqlite import SqliteStore
from territory.tokens import new_token
from tests.dashboard.helpers import (
    OPERATOR_TOKEN,
    VIEWER_TOKEN,
    ConsoleServer,
    RunningApp,
    secured_config,
    seed,
    serve,
    start_app,
)
from tests.services import Influxd

STATIC = Path(__file__).resolve().parents[2] / "dashboard/static"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def speaking_from(running: RunningApp, address: str, token: str | None = None) -> httpx.Client:
    headers = {"X-Forwarded-For": address, **(bearer(token) if token else {})}
    return httpx.Client(base_url=running.url, headers=headers, timeout=10)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[ConsoleServer]:
    """A seeded console that turns an address away after 3 refused tokens."""
    store = SqliteStore(tmp_path / "territory.db")
    seed(store)
    store.close()
    running = serve(
        tmp_path / "territory.db",
        secured_config(sign_in_limit={"failures": 3, "window_s": 600}, max_body_bytes=1000),
    )
    yield running
    running.stop()
    running.store.close()


def audit_of(running: RunningApp) -> list[dict[str, Any]]:
    with speaking_from(running, "192.0.2.1", OPERATOR_TOKEN) as operator:
        response = operator.get("/api/audit")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_an_address_guessing_tokens_is_turned_away_and_no_other(
    guarded: ConsoleServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    guesses = [new_token() for _ in range(4)]
    with speaking_from(guarded, "203.0.113.5") as guesser:
        answers = [guesser.get("/api/zones", headers=bearer(g)) for g in guesses[:3]]
        # From now on even the right token is refused from there: the address is turned
        # away before its token is looked at, so guessing cannot go on behind the 429.
        right = guesser.get("/api/zones", headers=bearer(VIEWER_TOKEN))
        fourth = guesser.get("/api/whoami", headers=bearer(guesses[3]))
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert right.status_code == 429 and fourth.status_code == 429
    assert 1 <= int(right.headers["retry-after"]) <= 600
    with speaking_from(guarded, "198.51.100.7", VIEWER_TOKEN) as elsewhere:
        assert elsewhere.get("/api/zones").status_code == 200

    entries = audit_of(guarded)
    from_guesser = [e["action"] for e in entries if e["client"] == "203.0.113.5"]
    assert from_guesser == ["signin.blocked", *["signin.failed"] * 3]  # newest first
    assert {(e["actor"], e["role"]) for e in entries if e["client"] == "203.0.113.5"} == {("", "")}
    said = json.dumps(entries) + caplog.text + "".join(a.text for a in answers)
    assert not [g for g in guesses if g in said]
    assert VIEWER_TOKEN not in said and OPERATOR_TOKEN not in said


def test_a_viewer_on_an_operators_route_is_403_and_audited(guarded: ConsoleServer) -> None:
    with speaking_from(guarded, "198.51.100.8", VIEWER_TOKEN) as viewer:
        assert viewer.post("/api/optimise/energy").status_code == 403
        assert viewer.get("/api/audit").status_code == 403
    with speaking_from(guarded, "198.51.100.8") as anonymous:
        assert anonymous.get("/api/audit").status_code == 401
    refused = [e for e in audit_of(guarded) if e["action"] == "access.refused"]
    assert len(refused) == 2
    assert {(e["actor"], e["role"], e["client"]) for e in refused} == {
        ("vera", "viewer", "198.51.100.8")
    }


def wait_for_run(running: RunningApp) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    with running.client(OPERATOR_TOKEN) as operator:
        while time.monotonic() < deadline:
            (run,) = operator.get("/api/optimise/runs").json()
            if run["state"] != "running":
                return dict(run)
            time.sleep(0.1)
    raise AssertionError("the triggered run did not finish within 60 s")


def audit_a_session(running: RunningApp) -> tuple[dict[str, Any], list[str]]:
    """Sign in as a viewer (often), guess once, run the energy optimiser as an operator."""
    wrong = new_token()
    with speaking_from(running, "198.51.100.20", VIEWER_TOKEN) as viewer:
        for _ in range(5):
            assert viewer.get("/api/whoami").status_code == 200
        assert viewer.get("/api/zones", headers=bearer(wrong)).status_code == 401
    with speaking_from(running, "198.51.100.30", OPERATOR_TOKEN) as operator:
        assert operator.post("/api/optimise/energy").status_code == 202
    return wait_for_run(running), [wrong]


def check_audit(entries: list[AuditEntry], run: dict[str, Any], secrets: list[str]) -> None:
    actions = [(e.action, e.actor, e.role, e.client) for e in reversed(entries)]  # oldest first
    assert actions[:4] == [
        ("signin.succeeded", "vera", "viewer", "198.51.100.20"),  # once, not five times
        ("signin.failed", "", "", "198.51.100.20"),
        ("signin.succeeded", "otto", "operator", "198.51.100.30"),
        ("optimise.requested", "otto", "operator", "198.51.100.30"),
    ]
    finished = [e for e in entries if e.action == "optimise.finished"]
    assert len(finished) == 1
    assert (finished[0].actor, finished[0].client) == ("otto", "198.51.100.30")
    assert finished[0].detail.startswith(f"run {run['id']} energy: {run['state']}")
    said = "".join(e.model_dump_json() for e in entries)
    assert not [s for s in [*secrets, VIEWER_TOKEN, OPERATOR_TOKEN] if s in said]


def test_sign_ins_refusals_and_runs_are_audited_in_sqlite(guarded: ConsoleServer) -> None:
    run, secrets = audit_a_session(guarded)
    assert run["state"] == "succeeded"
    check_audit(guarded.store.audit(), run, secrets)
    served = [AuditEntry.model_validate(e) for e in audit_of(guarded)]
    assert served == guarded.store.audit()
    assert served[0].action == "signin.succeeded" and served[0].client == "192.0.2.1"


def test_sign_ins_refusals_and_runs_are_audited_in_influxdb(influxd: Influxd) -> None:
    url = influxd.store_url("console_audit")
    config = secured_config(optimise_command=["{python}", "-c", "print('a plan')"])
    running = start_app(create_app(url, config=config))
    store = open_store(url)
    try:
        run, secrets = audit_a_session(running)
        assert run["state"] == "succeeded"
        check_audit(store.audit(), run, secrets)
    finally:
        running.stop()
        store.close()


# -- headers ---------------------------------------------------------------------------


def test_security_headers_on_pages_api_static_files_and_errors(guarded: ConsoleServer) -> None:
    with guarded.client(VIEWER_TOKEN) as viewer, guarded.client() as anonymous:
        answers = {
            "page": anonymous.get("/"),
            "script": anonymous.get("/static/js/main.js"),
            "vendored style": anonymous.get("/static/vendor/uPlot.min.css"),
            "api": viewer.get("/api/zones"),
            "api 401": anonymous.get("/api/zones"),
            "health": anonymous.get("/healthz"),
            "not found": anonymous.get("/nowhere"),
            "413": viewer.post("/api/optimise/energy", content=b"x" * 2000),
        }
    assert [a.status_code for a in answers.values()] == [200, 200, 200, 200, 401, 200, 404, 413]
    for what, answer in answers.items():
        headers = answer.headers
        assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, what
        assert headers.get("x-frame-options") == "DENY", what
        assert headers.get("x-content-type-options") == "nosniff", what
        assert headers.get("referrer-policy") == "no-referrer", what
        assert "strict-transport-security" not in headers, what  # plain HTTP here
    policy = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert answers["api"].headers["cache-control"] == "no-store"


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler"
    assert not re.search(r"<style|\sstyle\s*=", html), "an inline style"
    for script in (STATIC / "js").rglob("*.js"):
        code = script.read_text()
        for forbidden in ("innerHTML", "eval(", "new Function", "javascript:", 'setAttribute("on'):
            assert forbidden not in code, f"{script.name}: {forbidden}"


def test_docs_carry_their_own_policy_allowing_their_one_inline_script_only(
    guarded: ConsoleServer,
) -> None:
    import base64
    import hashlib

    with guarded.client(VIEWER_TOKEN) as viewer:
        page = viewer.get("/docs")
    policy = page.headers["content-security-policy"]
    (inline,) = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


# -- the body limit --------------------------------------------------------------------


def post_chunked(running: RunningApp, path: str, token: str, chunks: list[bytes]) -> int:
    """A raw HTTP/1.1 POST with a chunked body; the status the console answers."""
    address = urlsplit(running.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    with socket.create_connection((host, port), timeout=10) as sock:
        # The console may answer and close before it has read everything.
        with contextlib.suppress(OSError):
            sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0].decode()
    assert status_line.startswith("HTTP/1.1 "), answer[:200]
    return int(status_line.split()[1])


def test_a_chunked_body_over_the_limit_is_refused_before_the_route_runs(
    guarded: ConsoleServer,
) -> None:
    # 8 chunks of 512 bytes, no declared length, to a route that never reads its body.
    assert post_chunked(guarded, "/api/optimise/energy", OPERATOR_TOKEN, [b"z" * 512] * 8) == 413
    with guarded.client(OPERATOR_TOKEN) as operator:
        assert operator.get("/api/optimise/runs").json() == []  # nothing was started
    # A small chunked body is let through.
    assert post_chunked(guarded, "/api/optimise/energy", OPERATOR_TOKEN, [b"z" * 100] * 2) == 202


def test_a_declared_length_over_the_limit_is_refused_unread(guarded: ConsoleServer) -> None:
    with guarded.client(OPERATOR_TOKEN) as operator:
        refused = operator.post("/api/optimise/energy", content=b"x" * 5000)
        assert refused.status_code == 413
        assert refused.json() == {"detail": "request body over 1000 bytes"}
        assert operator.get("/api/optimise/runs").json() == []
