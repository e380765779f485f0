"""`territory simulate` as a user runs it: a bounded run, a clean stop on SIGTERM, clear errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from tests.devices.helpers import tiny_document
from tests.mqtt_listener import Listener
from tests.services import Mosquitto

TERRITORY = str(Path(sys.executable).parent / "territory")


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_document()))
    return path


def test_a_bounded_run_prints_what_it_started_and_a_summary(
    tmp_path: Path, mosquitto: Mosquitto, collector: Listener
) -> None:
    done = subprocess.run(
        [
            TERRITORY,
            "simulate",
            "--mqtt",
            mosquitto.url,
            "--territory",
            str(_scenario(tmp_path)),
            "--duration",
            "2s",
            "--seed",
            "3",
            "--faults",
            "0.1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    banner, summary = done.stdout.strip().splitlines()
    assert banner.startswith("simulating tiny: 15 devices in 2 zones") and mosquitto.url in banner
    published = sum(json.loads(summary)["published"].values())
    gateway = json.loads(summary)["gateway"]
    assert published > 0
    assert (gateway["acked"] + gateway["refused"], gateway["dropped"]) == (published, 0)
    assert collector.wait_for(lambda got: len(got) >= published)


def test_sigterm_stops_it_cleanly(
    tmp_path: Path, mosquitto: Mosquitto, collector: Listener
) -> None:
    process = subprocess.Popen(
        [TERRITORY, "simulate", "--mqtt", mosquitto.url, "--territory", str(_scenario(tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert collector.wait_for(lambda got: len(got) > 5)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "published" in json.loads(out.strip().splitlines()[-1])


def test_bad_options_get_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(tiny_document(step_s=0)))
    done = subprocess.run(
        [TERRITORY, "simulate", "--territory", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "step_s" in done.stderr and "Traceback" not in done.stderr
    unreachable = subprocess.run(
        [
            TERRITORY,
            "simulate",
            "--mqtt",
            "mqtt://127.0.0.1:1",
            "--territory",
            str(_scenario(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unreachable.returncode == 1 and "cannot reach the broker" in unreachable.stderr
