"""A service's collector, once tuned: what it held at start frozen, thresholds raised.
Checked in a process of its own (the settings are process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys

from territory.collector import MIDDLE_THRESHOLD, OLD_THRESHOLD, YOUNG_THRESHOLD
from tests.services import REPO

PROBE = """
import gc, json
from territory.collector import tune_collector
before = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
tune_collector()
print(json.dumps({"before": before,
                  "after": {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}}))
"""


def test_tuning_freezes_the_start_and_raises_the_thresholds() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["before"]["frozen"] == 0
    assert seen["after"]["frozen"] > 1000  # the modules and objects loaded at start
    assert seen["before"]["threshold"][0] < YOUNG_THRESHOLD
    assert seen["after"]["threshold"] == [YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD]
