"""A zone's history for one kind, on both stores: per step, the sum of its devices' means,
computed here from the readings written, over a short window (raw readings) and a long
one (rollups, the newest bins not rolled up yet)."""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store import Store, open_store
from territory.store.maintenance import rollup_engine
from territory.store.rollups import Rollup, Summary
from territory.store.zone_history import ZoneStep, zone_series
from tests.services import Influxd

NS = 1_000_000_000
HOUR_NS = 3600 * NS
DAY_NS = 24 * HOUR_NS
SETTINGS = RollupSettings(raw_window_s=6 * 3600)
NORTH_FEEDERS = ("f-1", "f-2", "f-3")
_names = itertools.count()

# (step start, attribute) -> (sum of device means, devices, lowest mean, highest mean)
Expected = dict[tuple[int, str], tuple[float, int, float, float]]


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path}/z.db")
    else:
        influxd: Influxd = request.getfixturevalue("influxd")
        opened = open_store(influxd.store_url(f"zone{next(_names)}"))
    yield opened
    opened.close()


def readings_of(start_ns: int, now_ns: int) -> list[Reading]:
    """Three feeders in the north, one in the south, a charger in the north: a reading every
    5 minutes; f-3 reports two hours out of four only, so some steps lack it."""
    found = []
    for seq in itertools.count():
        ts = start_ns + seq * 300 * NS
        if ts >= now_ns:
            break
        for number, device in enumerate(("f-1", "f-2", "f-3", "f-9"), start=1):
            if device == "f-3" and seq % 48 >= 24:
                continue
            zone = "south" if device == "f-9" else "north"
            fields: dict[str, float | int | str | bool] = {
                "activePower": float(100 * number + seq % 7) + 0.25 * number,
                "powerLimit": 400.0 + number,
            }
            found.append(Reading("feeder", zone, device, ts, seq, fields, ts))
        charger: dict[str, float | int | str | bool] = {
            "status": "charging",
            "powerConsumption": float(seq % 11),
            "maxPower": 22.0,
            "feeder": "f-1",
        }
        found.append(Reading("ev_charger", "north", "c-1", ts, seq, charger, ts))
    return found


def written(store: Store, now_ns: int) -> tuple[int, list[Reading]]:
    """Three days of readings from a midnight, rolled up by a pass two hours ago: the bins
    since are not rolled up yet. Returns that midnight and the readings."""
    start = (now_ns - 3 * DAY_NS) // DAY_NS * DAY_NS
    readings = readings_of(start, now_ns)
    store.write([r for r in readings if r.ts_ns < now_ns - 2 * HOUR_NS])
    rollup_engine(store, SETTINGS).refresh(now_ns - 2 * HOUR_NS, max_bins=10_000)
    store.write([r for r in readings if r.ts_ns >= now_ns - 2 * HOUR_NS])
    return start, readings


def expected(
    readings: list[Reading], devices: tuple[str, ...], start: int, end: int, step_s: int
) -> Expected:
    """Worked out from the readings alone: each device's mean per step, then added up."""
    values: dict[tuple[int, str, str], list[float]] = defaultdict(list)
    for r in readings:
        if r.device_id in devices and r.kind == "feeder" and start <= r.ts_ns < end:
            step = r.ts_ns - r.ts_ns % (step_s * NS)
            for name, value in r.fields.items():
                assert isinstance(value, float)
                values[step, r.device_id, name].append(value)
    means: dict[tuple[int, str], list[float]] = defaultdict(list)
    for (step, _, name), found in values.items():
        means[step, name].append(sum(found) / len(found))
    return {key: (sum(m), len(m), min(m), max(m)) for key, m in means.items()}


def figures(steps: list[ZoneStep]) -> Expected:
    return {
        (step.start_ns, name): (f.total, f.devices, f.min, f.max)
        for step in steps
        for name, f in step.numbers.items()
    }


def assert_agree(found: Expected, wanted: Expected) -> None:
    assert sorted(found) == sorted(wanted)
    for key, (total, devices, low, high) in wanted.items():
        got = found[key]
        assert got[1] == devices, key
        # Means as far as a rollup keeps them (10 significant digits on SQLite).
        assert got[0] == pytest.approx(total, rel=1e-9), key
        assert (got[2], got[3]) == pytest.approx((low, high), rel=1e-9), key


def test_a_short_window_sums_the_devices_raw_readings(store: Store) -> None:
    now = time.time_ns()
    _, readings = written(store, now)
    # Not on a step boundary: the first step holds the readings from the window's start.
    start, end = now - 5 * HOUR_NS + 123 * NS, now
    for step_s in (600, 3600):
        found = zone_series(store, NORTH_FEEDERS, "feeder", start, end, step_s, SETTINGS)
        wanted = expected(readings, NORTH_FEEDERS, start, end, step_s)
        assert len(found) >= 5 * 3600 // step_s
        assert_agree(figures(found), wanted)
    # Two of the three feeders in the steps f-3 is silent, three in the others.
    hourly = zone_series(store, NORTH_FEEDERS, "feeder", start, end, 3600, SETTINGS)
    assert {step.devices for step in hourly} == {2, 3}


@pytest.mark.parametrize("step_s", [900, 3600, 86_400])
def test_a_long_window_sums_the_devices_rollups(store: Store, step_s: int) -> None:
    now = time.time_ns()
    start, readings = written(store, now)
    found = zone_series(store, NORTH_FEEDERS, "feeder", start, now, step_s, SETTINGS)
    assert found[-1].start_ns + step_s * NS > now - 900 * NS  # up to now, the newest bin too
    assert_agree(figures(found), expected(readings, NORTH_FEEDERS, start, now, step_s))
    totals = [step.numbers["activePower"].total for step in found]
    assert all(not math.isnan(total) for total in totals)
    # Readings counted over the whole zone: every feeder reading of the north in the window.
    north = [r for r in readings if r.device_id in NORTH_FEEDERS]
    assert sum(step.readings for step in found) == len(north)


def test_long_windows_are_read_from_rollups_and_short_ones_from_raw(store: Store) -> None:
    now = time.time_ns()
    start, _ = written(store, now)
    day_ago = (now - DAY_NS) // (900 * NS) * 900 * NS
    marked = Summary(count=1, mean=-1000.0, min=-1000.0, max=-1000.0, last=-1.0, last_ns=day_ago)
    rollup_engine(store, SETTINGS).backend.write_rollups(
        900, [Rollup("f-2", "feeder", "north", 900, day_ago, 1, {"activePower": marked})]
    )
    long = zone_series(store, NORTH_FEEDERS, "feeder", start, now, 900, SETTINGS)
    short = zone_series(store, NORTH_FEEDERS, "feeder", day_ago, day_ago + HOUR_NS, 900, SETTINGS)
    [from_rollups] = [s.numbers["activePower"] for s in long if s.start_ns == day_ago]
    [from_raw] = [s.numbers["activePower"] for s in short if s.start_ns == day_ago]
    assert from_rollups.min == -1000.0
    assert from_raw.min > 0


def test_other_devices_and_kinds_and_empty_zones_add_nothing(store: Store) -> None:
    now = time.time_ns()
    start, readings = written(store, now)
    # The charger is in the north too, and f-9 reports: neither is of the devices asked.
    found = zone_series(store, ("f-1", "c-1", "nowhere"), "feeder", start, now, 3600, SETTINGS)
    assert {step.devices for step in found} == {1}
    assert_agree(figures(found), expected(readings, ("f-1",), start, now, 3600))
    assert zone_series(store, [], "feeder", start, now, 3600, SETTINGS) == []
    with pytest.raises(ValueError):
        zone_series(store, NORTH_FEEDERS, "feeder", start, now, 0, SETTINGS)
