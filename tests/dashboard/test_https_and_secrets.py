"""`territory dashboard` as a process, over HTTPS, and no secret in what it says.

The console runs as a user starts it (`python -m territory dashboard --tls-cert --tls-key`)
with a certificate made by openssl for 127.0.0.1 and a configuration holding two token
hashes. A session of requests (sign-ins, wrong tokens, a triggered run, the audit log,
metrics, docs, the page) is made over HTTPS; then every answer (bodies and headers) and
the console's whole log (uvicorn's access lines included) are searched for the tokens,
the wrong guesses and the hashes: none may appear.
"""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from territory.tokens import hash_token, new_token
from tests.services import REPO, find_binary, free_port, start_process, stop_process, wait_for_port


@dataclass
class HttpsConsole:
    url: str
    ca: ssl.SSLContext
    log: Path
    process: subprocess.Popen[bytes]
    tokens: dict[str, str]  # role -> token
    hashes: list[str]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, verify=self.ca, timeout=10)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [find_binary("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def https_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsConsole]:
    folder = tmp_path_factory.mktemp("https")
    cert, key = make_certificate(folder)
    tokens = {"viewer": new_token(), "operator": new_token()}
    hashes = [hash_token(token) for token in tokens.values()]
    config = folder / "console.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "tokens": [
                    {"name": f"{role}-1", "role": role, "token_hash": hashed}
                    for role, hashed in zip(tokens, hashes, strict=True)
                ],
                "optimise_command": ["{python}", "-c", "print('stored a plan')"],
                "sign_in_limit": {"failures": 50, "window_s": 60},
            }
        )
    )
    port = free_port()
    log = folder / "console.log"
    process = start_process(
        [sys.executable, "-m", "territory", "dashboard", "--host", "127.0.0.1",
         "--port", str(port), "--store", f"sqlite:///{folder / 'territory.db'}",
         "--console-config", str(config), "--tls-cert", str(cert), "--tls-key", str(key)],
        log,
        cwd=REPO,
    )  # fmt: skip
    try:
        wait_for_port(port, 30)
        yield HttpsConsole(
            f"https://127.0.0.1:{port}",
            ssl.create_default_context(cafile=str(cert)),
            log,
            process,
            tokens,
            hashes,
        )
    finally:
        stop_process(process, 15)


def test_the_console_speaks_https_only_to_clients_that_trust_its_certificate(
    https_console: HttpsConsole,
) -> None:
    with https_console.client(https_console.tokens["viewer"]) as viewer:
        answer = viewer.get("/api/whoami")
    assert answer.json() == {"name": "viewer-1", "role": "viewer"}
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    port = https_console.url.rsplit(":", 1)[1]
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)  # plain HTTP on its port
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{https_console.url}/healthz", timeout=5)  # a client without its CA


def run_a_session(console: HttpsConsole, guesses: list[str]) -> list[httpx.Response]:
    answers = []
    viewer_token, operator_token = console.tokens["viewer"], console.tokens["operator"]
    with console.client(viewer_token) as viewer, console.client(operator_token) as operator:
        with console.client() as anonymous:
            answers += [anonymous.get(p) for p in ("/", "/static/js/main.js", "/healthz")]
            answers += [anonymous.get("/api/zones", headers={"Authorization": f"Bearer {g}"})
                        for g in guesses]  # fmt: skip
            answers.append(anonymous.get("/api/zones", headers={"Authorization": guesses[0]}))
        answers += [viewer.get(p) for p in ("/api/whoami", "/metrics", "/openapi.json", "/docs")]
        answers.append(viewer.post("/api/optimise/energy"))
        answers.append(operator.post("/api/optimise/energy"))
        deadline = time.monotonic() + 60
        while operator.get("/api/optimise/runs").json()[0]["state"] == "running":
            assert time.monotonic() < deadline, "the triggered run did not finish"
            time.sleep(0.1)
        answers += [operator.get(p) for p in ("/api/optimise/runs", "/api/audit", "/metrics")]
    return answers


def test_no_secret_in_any_answer_or_log_line(https_console: HttpsConsole) -> None:
    guesses = [new_token(), "operator-demo-token-change-me", new_token()]
    answers = run_a_session(https_console, guesses)
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 401, 401, 401,
                                                200, 200, 200, 200, 403, 202, 200, 200, 200]  # fmt: skip
    audit = answers[-2].json()
    assert {"signin.failed", "signin.succeeded", "optimise.requested", "optimise.finished"} <= {
        e["action"] for e in audit
    }
    # Stop the console so that its log is complete, then read everything it said.
    https_console.process.send_signal(signal.SIGTERM)
    https_console.process.wait(15)
    log = https_console.log.read_text(errors="replace")
    assert "signin.failed" in log and '"GET /api/whoami HTTP/1.1" 200' in log  # it did log
    said = log + "".join(
        a.text + "".join(f"{k}: {v}\n" for k, v in a.headers.items()) for a in answers
    )
    secrets = [*https_console.tokens.values(), *guesses]
    secrets += [hashed.split(":")[2] for hashed in https_console.hashes]  # the digests too
    assert [s for s in secrets if s in said] == []
