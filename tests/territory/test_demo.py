"""`territory demo` as a user runs it: one command, a live page, Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.services import free_port

VIEWER = {"Authorization": "Bearer viewer-demo-token-change-me"}


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
        banner = [demo.stdout.readline() for _ in range(5)]
        assert f"http://127.0.0.1:{port}" in "".join(banner), banner
        assert "sign in as viewer with viewer-demo-token-change-me" in "".join(banner), banner
        base = f"http://127.0.0.1:{port}"
        page = httpx.get(base + "/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()

        def readings() -> dict[str, float]:
            devices = httpx.get(base + "/api/devices", headers=VIEWER, timeout=10).json()
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
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
