"""A device's history in steps: raw readings for short windows, rollups beyond, the bins
not computed yet made up from raw readings; and `territory query history`."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from territory.readings import Reading
from territory.settings import RollupSettings
from territory.shell.cli import app
from territory.store import Store, open_store
from territory.store.history import means, series
from territory.store.maintenance import rollup_engine
from territory.store.rollups import Rollup, Summary, bin_starts, compute
from tests.services import Influxd

NS = 1_000_000_000
HOUR_NS = 3600 * NS
SETTINGS = RollupSettings(raw_window_s=6 * 3600)
_names = itertools.count()
STATUSES = ("available", "charging", "charging", "occupied")


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path}/h.db")
    else:
        influxd: Influxd = request.getfixturevalue("influxd")
        opened = open_store(influxd.store_url(f"history{next(_names)}"))
    yield opened
    opened.close()


def feeder(seq: int, ts_ns: int) -> Reading:
    fields: dict[str, float | int | str | bool] = {
        "activePower": float(100 + seq % 37),
        "powerLimit": 400.0,
    }
    return Reading("feeder", "north", "f-1", ts_ns, seq, fields, ts_ns)


def charger(seq: int, ts_ns: int) -> Reading:
    fields: dict[str, float | int | str | bool] = {
        "status": STATUSES[seq % 4],
        "powerConsumption": float(seq % 11),
        "maxPower": 22.0,
        "feeder": "f-1",
    }
    return Reading("ev_charger", "north", "c-1", ts_ns, seq, fields, ts_ns)


def three_days(store: Store, now_ns: int) -> None:
    """Readings every 5 minutes over three days up to now, rolled up by a pass two hours
    ago: the bins since are not rolled up yet."""
    start = now_ns - 3 * 24 * HOUR_NS
    times = [(seq, start + seq * 300 * NS) for seq in range(864) if start + seq * 300 * NS < now_ns]
    store.write(
        [
            make(seq, ts)
            for make in (feeder, charger)
            for seq, ts in times
            if ts < now_ns - 2 * HOUR_NS
        ]
    )
    rollup_engine(store, SETTINGS).refresh(now_ns - 2 * HOUR_NS, max_bins=10_000)
    store.write(
        [
            make(seq, ts)
            for make in (feeder, charger)
            for seq, ts in times
            if ts >= now_ns - 2 * HOUR_NS
        ]
    )


def from_raw(store: Store, device: str, start: int, end: int, step_s: int) -> list[Rollup]:
    readings = store.history(device, start - 900 * NS - step_s * NS, end)
    found = compute(readings, step_s, bin_starts(start, end, step_s), 900 * NS, end)
    return [r for r in found if not r.empty]


def comparable(rollups: list[Rollup]) -> list[tuple[object, ...]]:
    """Everything but the means, exactly (states to the microsecond)."""
    return [
        (
            r.start_ns,
            r.count,
            {n: (s.count, s.min, s.max, s.last) for n, s in r.numbers.items()},
            {a: {k: round(t, 6) for k, t in held.items()} for a, held in r.states.items()},
        )
        for r in rollups
    ]


def mean_values(rollups: list[Rollup]) -> list[float]:
    return [s.mean for r in rollups for _, s in sorted(r.numbers.items())]


@pytest.mark.parametrize("step_s", [900, 3600, 86_400, 600])
def test_long_windows_from_rollups_agree_with_raw_readings(store: Store, step_s: int) -> None:
    now = time.time_ns()
    three_days(store, now)
    start = now - 3 * 24 * HOUR_NS
    for device in ("f-1", "c-1"):
        found = series(store, device, start, now, step_s, SETTINGS)
        assert found and found[-1].end_ns > now - 900 * NS  # up to now, the newest bin too
        wanted = from_raw(store, device, start, now, step_s)
        # Steps are whole bins: the first may hold readings from before the window.
        assert comparable(found[1:]) == comparable(wanted[1:])
        # Means as far as a rollup keeps them (10 significant digits on SQLite).
        assert mean_values(found[1:]) == pytest.approx(mean_values(wanted[1:]), rel=1e-9)


def test_long_windows_are_read_from_rollups_and_short_ones_from_raw(store: Store) -> None:
    now = time.time_ns()
    three_days(store, now)
    engine = rollup_engine(store, SETTINGS)
    day_ago = (now - 24 * HOUR_NS) // (900 * NS) * 900 * NS
    marked = Summary(count=1, mean=-1.0, min=-1.0, max=-1.0, last=-1.0, last_ns=day_ago)
    engine.backend.write_rollups(
        900, [Rollup("f-1", "feeder", "north", 900, day_ago, 1, {"activePower": marked})]
    )
    long = series(store, "f-1", now - 3 * 24 * HOUR_NS, now, 900, SETTINGS)
    short = series(store, "f-1", day_ago - HOUR_NS, day_ago + HOUR_NS, 900, SETTINGS)
    assert [r.numbers["activePower"].mean for r in long if r.start_ns == day_ago] == [-1.0]
    assert [r.numbers["activePower"].mean for r in short if r.start_ns == day_ago] != [-1.0]


@pytest.mark.parametrize("step_s", [900, 3600])
def test_one_attributes_means_agree_with_the_whole_history(store: Store, step_s: int) -> None:
    now = time.time_ns()
    three_days(store, now)
    start = now - 3 * 24 * HOUR_NS
    whole = series(store, "c-1", start, now, step_s, SETTINGS)
    wanted = [
        (r.start_ns, r.numbers["powerConsumption"].count, r.numbers["powerConsumption"].mean)
        for r in whole
        if "powerConsumption" in r.numbers
    ]
    found = means(store, "c-1", "powerConsumption", start, now, step_s, SETTINGS)
    assert [(s, c) for s, c, _ in found] == [(s, c) for s, c, _ in wanted]
    assert [m for *_, m in found] == pytest.approx([m for *_, m in wanted], rel=1e-12)
    assert len(wanted) > 70 * 3600 // step_s


def test_query_history_in_steps_and_raw(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    store = open_store(url)
    now = time.time_ns()
    three_days(store, now)
    store.close()
    runner = CliRunner()

    steps = runner.invoke(
        app,
        ["query", "history", "--device", "c-1", "--from", "-2d", "--step", "1d", "--store", url],
    )
    assert steps.exit_code == 0, steps.output
    days = json.loads(steps.output)
    assert 2 <= len(days) <= 3
    power = days[-1]["attributes"]["powerConsumption"]
    assert set(power) == {"count", "mean", "min", "max", "last", "last_ts"}
    assert 0 < sum(days[-1]["states"]["status"].values()) <= 86_400

    raw = runner.invoke(
        app, ["query", "history", "--device", "f-1", "--from", "-1h", "--step", "0", "--store", url]
    )
    assert raw.exit_code == 0, raw.output
    assert 10 <= len(json.loads(raw.output)) <= 12  # one every 5 minutes

    wrong = runner.invoke(
        app, ["query", "history", "--device", "f-1", "--from", "yesterday", "--store", url]
    )
    assert wrong.exit_code == 2 and "is not a time" in wrong.output
