"""Rollups agree with the raw readings they were built from, on both backends, however the
readings arrive: late, twice, out of order, split into batches.

The expected rollups are computed here from the raw readings the store holds at the
end, straight from the definition (each bin on its own, the daily ones directly from
raw readings, not from the 15-minute ones), and compared with what the store keeps up
to date as the readings come in.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.store import Store, open_store
from territory.store.maintenance import rollup_engine
from territory.store.rollups import Rollup
from tests.services import Influxd

NS = 1_000_000_000
DAY_NS = 86_400 * NS
HOLD_NS = 900 * NS
# The day the readings fall on: two days before today, fixed once, so that its daily bin
# has closed whatever the hour the test runs at (just after midnight, yesterday's has not).
DAY = time.time_ns() // DAY_NS * DAY_NS - 2 * DAY_NS
BINS = (900, 86_400)
_names = itertools.count()

STATUSES = ("available", "charging", "occupied", "outOfService")


def open_fresh(backend: str, folder: Path, influxd: Influxd | None) -> Store:
    if backend == "sqlite":
        return open_store(f"sqlite:///{folder}/rollups-{next(_names)}.db")
    assert influxd is not None
    return open_store(influxd.store_url(f"rollups{next(_names)}"))


def meter(seq: int, ts_ns: int, power: float) -> Reading:
    fields: dict[str, Any] = {
        "activePower": power,
        "activeEnergyImport": 10.0 + seq,
        "feeder": "f1",
    }
    return Reading("meter", "north", "m-1", ts_ns, seq, fields, ts_ns)


def charger(seq: int, ts_ns: int, status: str, power: float) -> Reading:
    fields: dict[str, Any] = {
        "status": status,
        "powerConsumption": power,
        "maxPower": 22.0,
        "feeder": "f1",
    }
    return Reading("ev_charger", "south", "c-1", ts_ns, seq, fields, ts_ns)


def station(seq: int, ts_ns: int, bikes: int) -> Reading:
    fields: dict[str, Any] = {
        "availableBikeNumber": bikes,
        "freeSlotNumber": 2,
        "totalSlotNumber": 40,
    }
    return Reading("bike_station", "south", "b-1", ts_ns, seq, fields, ts_ns)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[list[Reading]], list[list[Reading]]]:
    """(batches written before the first pass, batches written after it: late, repeated,
    reordered). Device times spread over four hours of DAY, each unique per device."""
    day = DAY
    offsets = st.lists(st.integers(0, 4 * 3600 * 1000), min_size=1, max_size=25, unique=True)
    readings: list[Reading] = []
    for offset_ms in draw(offsets):
        power = draw(st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 3)))
        readings.append(meter(offset_ms, day + offset_ms * 1_000_000, power))
    for offset_ms in draw(offsets):
        status = draw(st.sampled_from(STATUSES))
        readings.append(
            charger(offset_ms, day + offset_ms * 1_000_000, status, draw(st.floats(0, 22)))
        )
    for offset_ms in draw(offsets):
        readings.append(station(offset_ms, day + offset_ms * 1_000_000, draw(st.integers(0, 38))))
    ordered = sorted(readings, key=lambda r: r.ts_ns)
    cut = draw(st.integers(0, len(ordered)))
    first, late = ordered[:cut], ordered[cut:]
    late = late + draw(st.lists(st.sampled_from(ordered), max_size=10))  # sent again
    late = draw(st.permutations(late))
    return _batches(draw, first), _batches(draw, late)


def _batches(draw: st.DrawFn, readings: list[Reading]) -> list[list[Reading]]:
    sizes = draw(st.lists(st.integers(1, 8), min_size=len(readings), max_size=len(readings)))
    batches, start = [], 0
    for size in sizes:
        if start < len(readings):
            batches.append(readings[start : start + size])
            start += size
    return batches


# -- the definition, bin by bin ------------------------------------------------------------


def expected(raw: list[Reading], bin_s: int) -> dict[tuple[str, int], dict[str, Any]]:
    """Every non-empty rollup of `bin_s` bins, straight from the raw readings."""
    step = bin_s * NS
    found: dict[tuple[str, int], dict[str, Any]] = {}
    by_device: dict[str, list[Reading]] = defaultdict(list)
    for reading in raw:
        by_device[reading.device_id].append(reading)
    for device_id, readings in by_device.items():
        readings.sort(key=lambda r: (r.ts_ns, r.seq))
        starts = {r.ts_ns // step * step for r in readings}
        starts |= {(r.ts_ns + HOLD_NS) // step * step for r in readings}
        for start in sorted(starts):
            inside = [r for r in readings if start <= r.ts_ns < start + step]
            numbers = {}
            for name in sorted({n for r in inside for n in r.fields}):
                values = [
                    (r.ts_ns, float(r.fields[name]))
                    for r in inside
                    if isinstance(r.fields.get(name), int | float)
                ]
                if values:
                    plain = [v for _, v in values]
                    numbers[name] = (
                        len(plain),
                        math.fsum(plain) / len(plain),
                        min(plain),
                        max(plain),
                        values[-1][1],
                        values[-1][0],
                    )
            states = _time_in_states(readings, start, start + step)
            if inside or states:
                found[device_id, start] = {
                    "count": len(inside),
                    "numbers": numbers,
                    "states": states,
                }
    return found


def _time_in_states(readings: list[Reading], start: int, end: int) -> dict[str, dict[str, float]]:
    """Seconds in each status within [start, end): each held until the next, at most HOLD_NS."""
    timeline = [(r.ts_ns, r.fields["status"]) for r in readings if "status" in r.fields]
    held: dict[str, float] = defaultdict(float)
    for (since, status), (following, _) in itertools.pairwise([*timeline, (None, None)]):
        until = since + HOLD_NS if following is None else min(following, since + HOLD_NS)
        seconds = (min(until, end) - max(since, start)) / NS
        if seconds > 0:
            held[str(status)] += seconds
    return {"status": dict(held)} if held else {}


def as_found(rollup: Rollup) -> dict[str, Any]:
    return {
        "count": rollup.count,
        "numbers": {
            name: (s.count, s.mean, s.min, s.max, s.last, s.last_ns)
            for name, s in sorted(rollup.numbers.items())
        },
        "states": {name: held for name, held in rollup.states.items() if held},
    }


def assert_agree(
    found: dict[tuple[str, int], dict[str, Any]], wanted: dict[tuple[str, int], Any]
) -> None:
    assert sorted(found) == sorted(wanted)
    for key, rollup in wanted.items():
        got = found[key]
        assert got["count"] == rollup["count"], key
        assert sorted(got["numbers"]) == sorted(rollup["numbers"]), key
        for name, values in rollup["numbers"].items():
            assert got["numbers"][name] == pytest.approx(values, rel=1e-9, abs=1e-9), (key, name)
        assert sorted(got["states"]) == sorted(rollup["states"]), key
        for name, held in rollup["states"].items():
            assert got["states"][name] == pytest.approx(held, abs=1e-6), (key, name)


# -- the property, on both backends ---------------------------------------------------------


@pytest.fixture(params=["sqlite", "influx"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, Influxd | None]]:
    influxd = request.getfixturevalue("influxd") if request.param == "influx" else None
    yield request.param, influxd


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delivered=deliveries())
def test_rollups_agree_with_the_raw_readings(
    backend: tuple[str, Influxd | None],
    tmp_path_factory: pytest.TempPathFactory,
    delivered: tuple[list[list[Reading]], list[list[Reading]]],
) -> None:
    name, influxd = backend
    store = open_fresh(name, tmp_path_factory.getbasetemp(), influxd)
    try:
        engine = rollup_engine(store, RollupSettings(bins_s=list(BINS), state_hold_s=900))
        on_time, late = delivered
        for batch in on_time:
            store.write(batch)
        engine.refresh(time.time_ns(), max_bins=1000)
        for batch in late:
            store.write(batch)
        engine.refresh(time.time_ns(), max_bins=1000)

        day = DAY
        raw = [
            r
            for device in ("m-1", "c-1", "b-1")
            for r in store.history(device, day - DAY_NS, day + DAY_NS)
        ]
        for bin_s in BINS:
            kept = engine.backend.read_rollups(bin_s, day - DAY_NS, day + DAY_NS)
            found = {(r.device_id, r.start_ns): as_found(r) for r in kept}
            assert_agree(found, expected(raw, bin_s))
    finally:
        store.close()
