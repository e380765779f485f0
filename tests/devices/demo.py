"""The demo territory with slower readings, for days run in tests."""

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
