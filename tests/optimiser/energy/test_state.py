"""The live energy problem built from readings in a real SQLite file."""

from __future__ import annotations

import numpy as np
import pytest

from optimiser.forecast import BaseLoadForecaster, hour_of_week
from optimiser.state import LiveSettings, build_energy_problem
from territory.store.sqlite import SqliteStore
from tests.inventories import inventory_for
from tests.optimiser.energy.readings import NOW, reading


def test_base_load_sessions_and_stale_readings(sqlite_store: SqliteStore) -> None:
    rows = [
            reading("feeder", "F1", NOW - 10, activePower=48.0, powerLimit=70.0),
            reading("feeder", "F-old", NOW - 3600, activePower=10.0, powerLimit=20.0),
            reading("pv", "pv-1", NOW - 5, activePower=6.0, feeder="F1"),
            reading("ev_charger", "c1", NOW - 5, status="charging", powerConsumption=11.0,
                    maxPower=11.0, feeder="F1", requestedEnergy=20.0, departure=NOW + 3 * 3600 + 60),
            reading("ev_charger", "c2", NOW - 5, status="charging", powerConsumption=7.0,
                    maxPower=22.0, feeder="F1", requestedEnergy=5.0, departure=NOW + 600),
            reading("ev_charger", "c3", NOW - 5, status="occupied", powerConsumption=0.0,
                    maxPower=22.0, feeder="F-old", requestedEnergy=5.0, departure=NOW + 7200),
            reading("ev_charger", "c4", NOW - 5, status="available", powerConsumption=0.0,
                    maxPower=22.0, feeder="F1"),
            reading("ev_charger", "c5", NOW - 5, status="occupied", powerConsumption=0.0,
                    maxPower=22.0, feeder="F1", requestedEnergy=0.0, departure=NOW + 7200),
            # Drawing with no session to plan: gets no command, so its 5 kW stay in the base.
            reading("ev_charger", "c6", NOW - 5, status="charging", powerConsumption=5.0,
                    maxPower=22.0, feeder="F1"),
    ]  # fmt: skip
    sqlite_store.write(rows)
    settings = LiveSettings(slot_minutes=15, horizon_slots=16)
    live = build_energy_problem(sqlite_store, NOW, inventory_for(rows), settings)
    assert live is not None
    problem = live.problem
    assert [f.id for f in problem.feeders] == ["F1"]  # F-old's reading is an hour old
    feeder = problem.feeders[0]
    # 48 kW at the head = base (with c6's 5 kW) + 18 kW of planned EVs − 6 kW of PV:
    # base 36, PV 6, held flat.
    assert feeder.base_load_kw == [36.0] * 16 and feeder.pv_kw == 6.0
    assert feeder.limit_kw == pytest.approx(70.0 * 0.97)  # 3 % kept for what moves meanwhile
    assert problem.objective == "headroom"
    sessions = {s.id: s for s in problem.sessions}
    assert set(sessions) == {"c1", "c2"}
    assert sessions["c1"].departure_slot == 12 and sessions["c1"].energy_kwh == 20.0
    # Leaves within the first slot, after two thirds of it: still planned, asking for
    # 5 kWh / (2/3) over the whole slot, i.e. 5 kWh by its departure.
    assert sessions["c2"].departure_slot == 1 and sessions["c2"].energy_kwh == pytest.approx(7.5)
    assert [c.device_id for c in live.idle_chargers] == ["c4"]
    assert live.charger_zone == {"c1": "z1", "c2": "z1"}
    assert any("c3" in note and "F-old" in note for note in live.notes)


def test_nothing_to_plan_without_a_fresh_feeder(sqlite_store: SqliteStore) -> None:
    rows = [reading("feeder", "F1", NOW - 7200, activePower=1.0, powerLimit=5.0)]
    sqlite_store.write(rows)
    assert build_energy_problem(sqlite_store, NOW, inventory_for(rows)) is None


def daily(ts: np.ndarray) -> np.ndarray:
    """Base load with an evening peak and a weekday/weekend difference."""
    hours = (ts % 86400) / 3600
    weekend = hour_of_week(ts) >= 120
    return 40 + 25 * np.exp(-(((hours - 19) / 2.5) ** 2)) - 8 * weekend


def test_forecast_follows_the_weekly_profile_and_beats_persistence(
    sqlite_store: SqliteStore,
) -> None:
    rng = np.random.default_rng(7)
    times = np.arange(NOW - 14 * 86400, NOW, 300.0)
    ev = np.where((times % 86400) / 3600 > 18, 11.0, 0.0)  # an EV on the feeder most evenings
    rows = []
    for seq, (ts, base, charging) in enumerate(zip(times, daily(times), ev, strict=True)):
        noise = rng.normal(0, 1.0)
        rows.append(
            reading("feeder", "F1", ts, seq, activePower=base + charging + noise, powerLimit=90.0)
        )
        rows.append(reading("ev_charger", "c1", ts, seq, status="charging", powerConsumption=charging,
                            maxPower=11.0, feeder="F1"))  # fmt: skip
    sqlite_store.write(rows)
    forecaster = BaseLoadForecaster(slot_minutes=15)
    forecaster.update(sqlite_store, NOW)
    slots = 96
    level = float(daily(np.array([NOW]))[0])
    predicted = forecaster.forecast("F1", NOW, slots, 900.0, level)
    actual = daily(NOW + (np.arange(slots) + 0.5) * 900)
    # The EV charging is taken out of the base load: the forecast tracks the base alone.
    assert np.abs(predicted - actual).mean() < 2.0
    report = forecaster.report()["1_hour"]
    assert report["points"] > 1000
    assert report["mae_kw"] < report["persistence_mae_kw"]


@pytest.mark.parametrize("ts", [0.0, 86400 * 4 - 1, 86400 * 4])
def test_hour_of_week_starts_on_monday(ts: float) -> None:
    # 1970-01-01 was a Thursday (hour 72); 1970-01-05 00:00 was Monday, hour 0.
    expected = {0.0: 72, 86400 * 4 - 1: 167, 86400 * 4: 0}[ts]
    assert int(hour_of_week(ts)) == expected
