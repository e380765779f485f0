"""Backups taken mid-stream, while another process keeps writing, then opened, checked
and restored; all through `territory store backup` and `territory store restore`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from territory.store.sqlite import SqliteStore
from tests.services import REPO

BATCH = 250
# Writes batches of BATCH readings of two meters, seq counting up, until terminated.
WRITER = f"""
import signal, sys, time
from territory.readings import Reading
from territory.store.sqlite import SqliteStore
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
store = SqliteStore(sys.argv[1])
seq, now = 0, time.time_ns()
while True:
    batch = [
        Reading("meter", "north", device, now + (seq + i) * 10**6, seq + i,
                {{"activePower": float(seq + i), "activeEnergyImport": 1.0}}, now)
        for i in range({BATCH}) for device in ("m-1", "m-2")
    ]
    store.write(batch)
    seq += {BATCH}
"""


def territory(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "territory", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def readings_of(path: Path) -> dict[str, list[int]]:
    store = SqliteStore(path)
    try:
        return {
            device: [r.seq for r in store.history(device, 0, 2**63 - 1)]
            for device in ("m-1", "m-2")
        }
    finally:
        store.close()


def wait_for_readings(path: Path, at_least: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists():
            with closing(SqliteStore(path)) as store:
                count = store.stats().readings
            if count >= at_least:
                return count
        time.sleep(0.05)
    raise TimeoutError(f"the writer wrote fewer than {at_least} readings in 60 s")


def test_a_backup_taken_mid_stream_is_whole_and_restores(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    copy = tmp_path / "backups" / "copy.db"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(live)], cwd=REPO)
    try:
        before = wait_for_readings(live, 20 * BATCH)
        taken = territory("store", "backup", "--store", f"sqlite:///{live}", "--out", str(copy))
        assert taken.returncode == 0, taken.stderr
        report = json.loads(taken.stdout)
        # The writer went on past the copy.
        after = wait_for_readings(live, report["readings"] + 4 * BATCH)
    finally:
        writer.send_signal(signal.SIGTERM)
        writer.wait(30)

    assert report["path"] == str(copy) and report["bytes"] == copy.stat().st_size
    assert before <= report["readings"] < after
    # The copy is the store at one instant: every batch whole, none half-written.
    copied = readings_of(copy)
    assert copied["m-1"] == copied["m-2"] == list(range(len(copied["m-1"])))
    assert len(copied["m-1"]) % BATCH == 0 and 2 * len(copied["m-1"]) == report["readings"]
    with closing(SqliteStore(copy)) as store:
        (newest,) = store.latest(kind="meter")[:1]
        assert newest.seq == len(copied["m-1"]) - 1  # `latest` agrees with the raw readings
    assert not list(tmp_path.glob("backups/*.partial"))

    refused = territory("store", "restore", "--from", str(copy), "--store", f"sqlite:///{live}")
    assert refused.returncode == 1 and "--replace" in refused.stderr
    assert len(readings_of(live)["m-1"]) > len(copied["m-1"])  # left as it was

    restored = territory(
        "store", "restore", "--from", str(copy), "--store", f"sqlite:///{live}", "--replace"
    )
    assert restored.returncode == 0, restored.stderr
    assert readings_of(live) == copied
    fresh = tmp_path / "elsewhere" / "fresh.db"
    assert (
        territory(
            "store", "restore", "--from", str(copy), "--store", f"sqlite:///{fresh}"
        ).returncode
        == 0
    )
    assert readings_of(fresh) == copied


def test_backups_of_influx_and_of_nothing_are_clear_errors(tmp_path: Path) -> None:
    influx = territory(
        "store", "backup", "--store", "influx://127.0.0.1:9/db", "--out", str(tmp_path / "x")
    )
    assert influx.returncode == 2 and "influxd backup" in influx.stderr
    missing = territory(
        "store", "backup", "--store", f"sqlite:///{tmp_path}/none.db", "--out", str(tmp_path / "x")
    )
    assert missing.returncode == 1 and "no store" in missing.stderr
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    restore = territory(
        "store", "restore", "--from", str(damaged), "--store", f"sqlite:///{tmp_path}/t.db"
    )
    assert restore.returncode == 1 and "failed" in restore.stderr
