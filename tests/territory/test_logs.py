"""Logging configured once: one format per service, JSON for collectors, no secret in a field."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from territory.logs import MASK, configure_logging, mask_secret, redact
from tests.services import REPO, free_port

DEMO = REPO / "config/territories/demo.yaml"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting to mqtts://ingest:Zx9-pass@broker:8883", "Zx9-pass"),
        ("influx://admin:s3cret-pw@127.0.0.1:8086/db", "s3cret-pw"),
        ("header Authorization: Bearer abc.DEF-123_tok", "abc.DEF-123_tok"),
        ("Authorization: Token 0123456789abcdef", "0123456789abcdef"),
        ("GET /x?token=tok3n-value&a=1", "tok3n-value"),
        ("login password=hunter22 user=x", "hunter22"),
    ],
)
def test_secrets_in_free_text_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and MASK in masked


def test_json_lines_carry_component_and_context_and_no_registered_secret() -> None:
    # A real process, as a service runs: its standard error is what a collector reads.
    code = """
import logging
from territory.logs import configure_logging, mask_secret
configure_logging("ingest", "json")
mask_secret("file-read-Pa55word")
log = logging.getLogger("ingest.worker")
log.warning("stored %d readings", 3, extra={"device": "m-1"})
log.info("plan for %s", "energy", extra={"domain": "energy"})
log.error("broker refused file-read-Pa55word for ingest")
try:
    raise ValueError("bad password=file-read-Pa55word")
except ValueError:
    log.exception("failed")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [line["message"] for line in lines][:2] == ["stored 3 readings", "plan for energy"]
    assert {line["component"] for line in lines} == {"ingest"}
    assert lines[0]["device"] == "m-1" and lines[0]["level"] == "warning"
    assert lines[1]["domain"] == "energy"
    assert len(lines) == 4 and "Traceback" in lines[3]["error"]
    assert "file-read-Pa55word" not in done.stderr
    assert MASK in lines[2]["message"] and MASK in lines[3]["error"]


def test_text_format_names_the_component(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("optimiser", "text")
    mask_secret("another-Secret-1")
    logging.getLogger("optimiser.runner").warning("tick with another-Secret-1")
    err = capsys.readouterr().err
    assert " optimiser optimiser.runner WARNING tick with ***" in err
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "territory"]:
        root.removeHandler(handler)


def test_http_clients_say_only_what_goes_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    """A line per request of the store's or a bridge's HTTP client would drown the rest."""
    configure_logging("maintain", "text")
    try:
        logging.getLogger("httpx").info("HTTP Request: POST http://store/query")
        logging.getLogger("httpx").warning("the store answered slowly")
        err = capsys.readouterr().err
        assert "HTTP Request" not in err and "the store answered slowly" in err
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "territory"]:
            root.removeHandler(handler)


def test_a_service_started_with_log_format_json_logs_json_lines(tmp_path: Path) -> None:
    # The optimiser's one tick on an empty store: it says there is nothing to plan, in JSON.
    command = [sys.executable, "-m", "territory", "--log-format", "json", "optimise", "--once"]
    command += ["--mqtt", f"mqtt://127.0.0.1:{free_port()}", "--domain", "energy"]
    command += ["--store", f"sqlite:///{tmp_path}/t.db", "--inventory", str(DEMO)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines, done.stderr
    assert {line["component"] for line in lines} == {"optimiser"}
    assert any(line["message"] == "energy: nothing to plan" for line in lines)
