"""The maintainer against a real influxd: a pass that fails is said, with its cause, and
the next pass runs; rollups whose shards hold only emptied bins read as none; a point
caught half written is not taken for a reading."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest

from territory.readings import Reading
from territory.settings import MaintenanceSettings, RetentionSettings, RollupSettings
from territory.store import open_store
from territory.store.influx import InfluxStore
from territory.store.maintenance import Maintainer, rollup_backend
from territory.store.rollups import Rollup
from tests.services import Influxd

NS = 1_000_000_000
QUARTER_NS = 900 * NS


def test_rollups_of_only_emptied_bins_read_as_none(influxd: Influxd) -> None:
    store = open_store(influxd.store_url("emptied"))
    try:
        backend = rollup_backend(store)
        start = time.time_ns() // QUARTER_NS * QUARTER_NS - 4 * QUARTER_NS
        # A bin computed again and found empty, in a database that has no other rollup.
        backend.write_rollups(900, [Rollup("m-1", "", "", 900, start, 0)])
        assert backend.read_rollups(900, start - QUARTER_NS, start + QUARTER_NS) == []
    finally:
        store.close()


def test_a_failed_pass_is_said_and_the_next_one_runs(
    influxd: Influxd, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(influxd.store_url("conflicted"))
    assert isinstance(store, InfluxStore)
    hour_ago = time.time_ns() - 3600 * NS
    store.write([Reading("meter", "north", "m-1", hour_ago, 1, {"activePower": 1.0}, hour_ago)])
    maintainer = Maintainer(
        store, RollupSettings(), RetentionSettings(), MaintenanceSettings(every_s=0.2)
    )
    # The watermarks' field taken as text first: InfluxDB refuses (400, a field
    # type conflict) every watermark the engine then writes, and so every pass fails.
    conflict = 'rollup_state,name=unrelated value="text"'
    answer = httpx.post(
        f"{influxd.url}/write",
        params={"db": store.database, "rp": "rollups"},
        content=conflict.encode(),
    )
    assert answer.status_code == 204, answer.text
    stop = threading.Event()
    loop = threading.Thread(target=maintainer.run, args=(stop,))
    with caplog.at_level(logging.INFO, logger="store"):
        loop.start()
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and _failures(caplog) < 2:
                time.sleep(0.1)
            assert loop.is_alive()  # still passing, after failures
        finally:
            stop.set()
            loop.join(60)
            store.close()
    assert _failures(caplog) >= 2
    failed = next(r for r in caplog.records if r.getMessage().startswith("maintenance pass"))
    assert failed.exc_info is not None and "field type conflict" in str(failed.exc_info[1])


def _failures(caplog: pytest.LogCaptureFixture) -> int:
    return sum(r.getMessage().startswith("maintenance pass failed") for r in caplog.records)


def test_a_point_caught_half_written_is_not_read_as_a_reading(influxd: Influxd) -> None:
    """A point whose fields have not all landed (here: written without its seq, as a read
    beside a write can see one) is left out, and the whole readings around it are read."""
    store = open_store(influxd.store_url("halfwritten"))
    try:
        now = time.time_ns()
        whole = Reading("meter", "north", "m-1", now - 2 * NS, 7, {"activePower": 1.5}, now)
        store.write([whole])
        half = f"meter,device_id=m-1,zone=north activePower=2.5 {now - NS}"
        answer = httpx.post(
            f"{influxd.url}/write",
            params={"db": store.database, "precision": "ns"},
            content=half.encode(),
        )
        assert answer.status_code == 204, answer.text
        found = store.history("m-1", now - 10 * NS, now)
        assert [(r.ts_ns, r.seq, r.fields["activePower"]) for r in found] == [
            (now - 2 * NS, 7, 1.5)
        ]
        kept = rollup_backend(store).raw_readings(now - 10 * NS, now, ["m-1"])
        assert [r.seq for r in kept] == [7]
    finally:
        store.close()
