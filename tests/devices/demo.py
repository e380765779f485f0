"""The demo territory with slower readings, for days run in tests, and what such a day
must show."""

from __future__ import annotations

from devices.scenario import Scenario, load_scenario
from tests.services import REPO


def demo_for_tests() -> Scenario:
    """The demo with slower readings (the world's dynamics do not depend on them)."""
    demo = load_scenario(REPO / "config/territories/demo.yaml")
    periods = demo.periods.model_copy(
        update={
            "meter": 120.0,
            "pv": 120.0,
            "feeder": 15.0,
            "ev_charger": 30.0,
            "bike_station": 60.0,
            "traffic": 600.0,
            "transit_counter": 600.0,
            "air": 900.0,
        }
    )
    return demo.model_copy(update={"periods": periods, "step_s": 20.0})


def assert_targeted_kpis_improve(before: dict[str, float], after: dict[str, float]) -> None:
    """The direction of every KPI a policy targets, controlled day against uncontrolled."""
    assert before["feeder_minutes_over_limit"] > 0, "the uncontrolled day overloads a feeder"
    assert after["feeder_minutes_over_limit"] < before["feeder_minutes_over_limit"]
    unmet = ("unmet_bike_pickups", "unmet_bike_returns")
    assert sum(after[k] for k in unmet) < sum(before[k] for k in unmet)
    assert after["corridor_load_above_capacity"] < before["corridor_load_above_capacity"]
    # Holding the feeder limits must not starve the vehicles: at most a few % goes missing.
    assert (
        after["ev_energy_not_delivered_kwh"] <= 1.05 * before["ev_energy_not_delivered_kwh"] + 1.0
    )
