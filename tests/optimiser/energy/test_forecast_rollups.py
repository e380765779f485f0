"""The base-load forecast reads weeks of history from rollups: once raw readings older
than a week are gone, it builds the same hour-of-week profile as from every reading."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from optimiser.forecast import BaseLoadForecaster
from territory.readings import Reading
from territory.settings import RetentionSettings, RollupSettings
from territory.store.lifecycle import Pace
from territory.store.maintenance import rollup_engine
from territory.store.sqlite import SqliteStore
from territory.store.sqlite_retention import expire
from tests.optimiser.energy.test_state import daily

NOW = time.time() // 3600 * 3600 + 1200.0


def four_weeks() -> list[Reading]:
    rng = np.random.default_rng(11)
    rows = []
    for seq, ts in enumerate(np.arange(NOW - 28 * 86400, NOW - 60, 600.0)):
        evening = 11.0 if (ts % 86400) / 3600 > 18 else 0.0
        base = float(daily(np.array([ts]))[0]) + rng.normal(0, 1.0)
        stamp = int(ts * 1e9)
        feeder = {"activePower": round(base + evening, 3), "powerLimit": 90.0}
        charger = {
            "status": "charging",
            "powerConsumption": evening,
            "maxPower": 11.0,
            "feeder": "F1",
        }
        rows.append(Reading("feeder", "z1", "F1", stamp, seq, feeder, stamp))  # type: ignore[arg-type]
        rows.append(Reading("ev_charger", "z1", "c1", stamp, seq, charger, stamp))  # type: ignore[arg-type]
    return rows


def test_profile_from_rollups_once_raw_readings_are_gone(tmp_path: Path) -> None:
    everything = SqliteStore(tmp_path / "raw.db")
    everything.write(four_weeks())
    kept = SqliteStore(tmp_path / "kept.db")
    kept.write(four_weeks())
    rollup_engine(kept, RollupSettings()).refresh(time.time_ns(), max_bins=10_000)
    gone = expire(kept, RetentionSettings(raw_days=7), time.time_ns(), Pace())
    assert len(gone.raw_days) >= 20
    assert kept.history("F1", 0, int((NOW - 9 * 86400) * 1e9)) == []

    forecasts = []
    for store in (everything, kept):
        forecaster = BaseLoadForecaster(slot_minutes=15, history_days=28)
        forecaster.update(store, NOW)
        forecasts.append(forecaster)
    from_raw, from_rollups = (f.base_bins("F1") for f in forecasts)
    assert len(from_raw) > 27 * 96
    assert from_rollups.keys() == from_raw.keys()
    assert list(from_rollups.values()) == pytest.approx(list(from_raw.values()))
    level = 50.0
    assert forecasts[1].forecast("F1", NOW, 96, 900.0, level) == pytest.approx(
        forecasts[0].forecast("F1", NOW, 96, 900.0, level)
    )
    everything.close()
    kept.close()
