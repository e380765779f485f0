"""`territory demo` as a user runs it: one command, a live page, Ctrl-C stops everything.

The demo makes its console's tokens at each start and prints them: the test signs in with
what it printed, checks that the configuration holds only their hashes and that no log of
the demo's components holds them, and that two starts never make the same tokens.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from territory.shell.demo import Demo
from territory.tokens import matches
from tests.services import free_port


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_demo_serves_live_readings_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "territory",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        banner = "".join(demo.stdout.readline() for _ in range(6))
        assert f"http://127.0.0.1:{port}" in banner, banner
        tokens = dict(re.findall(r"sign in as (\w+) with (\S+)", banner))
        assert set(tokens) == {"viewer", "operator"}, banner
        assert "viewer-demo-token-change-me" not in banner
        viewer_headers = {"Authorization": f"Bearer {tokens['viewer']}"}
        base = f"http://127.0.0.1:{port}"
        refused = httpx.get(
            base + "/api/devices",
            headers={"Authorization": "Bearer viewer-demo-token-change-me"},
            timeout=10,
        )
        assert refused.status_code == 401
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()

        def readings() -> dict[str, float]:
            devices = httpx.get(base + "/api/devices", headers=viewer_headers, timeout=10).json()
            return {d["device_id"]: d["ts"] for d in devices}

        deadline = time.monotonic() + 60
        first = readings()
        while not first and time.monotonic() < deadline:
            time.sleep(0.5)
            first = readings()
        assert first, "no reading reached the page"
        later = first
        while later == first and time.monotonic() < deadline:
            time.sleep(1)
            later = readings()
        assert later != first, "the readings did not change"
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200

        children = _children(demo.pid)
        assert len(children) >= 5  # broker, ingest, simulator, optimiser, dashboard
        stopping = time.monotonic()
        demo.send_signal(signal.SIGINT)
        demo.wait(10)
        assert time.monotonic() - stopping < 5
        assert demo.returncode == 0
        assert not [pid for pid in children if _alive(pid)], "a component outlived the demo"
        config = tmp_path / "console.yaml"
        assert config.stat().st_mode & 0o777 == 0o600
        hashes = {t["role"]: t["token_hash"] for t in yaml.safe_load(config.read_text())["tokens"]}
        assert all(matches(tokens[role], hashes[role]) for role in tokens)
        logs = "".join(log.read_text(errors="replace") for log in tmp_path.glob("*.log"))
        assert "dashboard" in {log.stem for log in tmp_path.glob("*.log")}
        assert not [role for role, token in tokens.items() if token in logs + config.read_text()]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_each_start_of_the_demo_makes_new_tokens(tmp_path: Path) -> None:
    made = []
    for _ in range(3):
        demo = Demo(str(tmp_path), 0, None, "config/territories/demo.yaml")
        demo.write_console_config(tmp_path)
        made += demo.tokens.values()
    assert len(set(made)) == len(made) == 6
