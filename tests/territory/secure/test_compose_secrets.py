"""`territory secure compose`: the secrets docker-compose.yml reads, their modes, the
console's token, and what a re-run keeps."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from typer.testing import CliRunner

from dashboard.config import load_console_config, require_tokens
from territory.secure.compose import PASSWORDS, update_env_file
from territory.shell.cli import app
from territory.tokens import matches
from tests.services import REPO

runner = CliRunner()


@pytest.fixture(autouse=True)
def in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's defaults (the demo inventory, config/console.yaml) are relative to
    the repository, where its documentation runs it."""
    monkeypatch.chdir(REPO)


def compose_step(tmp_path: Path, *more: str) -> tuple[dict[str, Any], str | None, str]:
    """Run the command; what it printed as JSON, the token line's token, all output."""
    options = ["--out", str(tmp_path / "out"), "--env-file", str(tmp_path / ".env"), *more]
    result = runner.invoke(app, ["secure", "compose", *options])
    assert result.exit_code == 0, result.output
    text, _, tail = result.output.partition("\nconsole token (operator): ")
    token = tail.splitlines()[0] if tail else None
    return json.loads(text), token, result.output


def every_secret(out: Path) -> dict[str, bytes]:
    files = [
        *out.glob("secrets/*"),
        *out.glob("broker/accounts/*.json"),
        *out.glob("broker/*.passwd"),
    ]
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(files)}


def test_it_writes_every_secret_the_compose_file_reads(tmp_path: Path) -> None:
    printed, token, output = compose_step(tmp_path)
    out = tmp_path / "out"
    assert set(printed["secrets"]) == {*PASSWORDS, "console_config"}
    for name in PASSWORDS:
        secret = (out / "secrets" / name).read_text()
        assert len(secret) >= 43 and "\n" not in secret
        assert secret not in output
        assert oct((out / "secrets" / name).stat().st_mode & 0o777) == "0o600"
    for folder in (out, out / "secrets", out / "grafana"):
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert (out / "inventory.yaml").read_text() == (
        REPO / "config/territories/demo.yaml"
    ).read_text()
    env = (tmp_path / ".env").read_text()
    assert f"TERRITORY_UID={os.getuid()}\n" in env and f"TERRITORY_GID={os.getgid()}\n" in env
    console = load_console_config(out / "secrets/console.yaml")
    require_tokens(console, out / "secrets/console.yaml")
    assert token is not None and len(console.tokens) == 1
    assert console.tokens[0].role == "operator" and matches(token, console.tokens[0].token_hash)


def test_the_broker_is_set_up_for_its_containers(tmp_path: Path) -> None:
    compose_step(tmp_path)
    broker = tmp_path / "out/broker"
    assert (
        "certfile /etc/territory/broker/tls/server.crt" in (broker / "mosquitto.conf").read_text()
    )
    ingest = json.loads((broker / "accounts/ingest.json").read_text())
    assert ingest["ca_cert"] == "/etc/territory/broker/tls/ca.crt"
    certificate = x509.load_pem_x509_certificate((broker / "tls/server.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "mosquitto" in names.get_values_for_type(x509.DNSName)


def test_a_rerun_keeps_every_secret_and_shows_no_token(tmp_path: Path) -> None:
    compose_step(tmp_path)
    before = every_secret(tmp_path / "out")
    _, token, output = compose_step(tmp_path)
    assert token is None and "console token" not in output
    assert every_secret(tmp_path / "out") == before


def test_rotate_issues_one_broker_account_anew(tmp_path: Path) -> None:
    compose_step(tmp_path)
    before = every_secret(tmp_path / "out")
    compose_step(tmp_path, "--rotate", "ingest")
    after = every_secret(tmp_path / "out")
    assert {name for name in before if before[name] != after[name]} == {
        "broker/accounts/ingest.json",
        "broker/services.passwd",
    }


def test_the_env_file_keeps_what_else_it_holds(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("# mine\nCOMPOSE_PROJECT_NAME=territory\nTERRITORY_UID=1\n")
    update_env_file(env, {"TERRITORY_UID": 1000, "TERRITORY_GID": 100})
    assert env.read_text() == (
        "# mine\nCOMPOSE_PROJECT_NAME=territory\nTERRITORY_UID=1000\nTERRITORY_GID=100\n"
    )
