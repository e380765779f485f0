"""A seeded 24-hour day of the demo with the optimiser's own live domains in the loop.

The real code path of `territory optimise --every`: telemetry into a SQLite store, every
domain of `optimiser.timer.live_domains` building its problem from that store and
solving it, its commands and plan messages obeyed by the twin. Against the same day
without control, every KPI a domain targets must move the right way.
"""

from __future__ import annotations

from devices.compare import compare, run_arm, start_of_day
from devices.optimiser_policy import (
    HISTORY_GAP_S,
    Cadence,
    LiveDomainsPolicy,
    live_domains,
    with_cadence,
)
from devices.policies import Policy
from devices.scenario import Scenario
from tests.devices.demo import assert_targeted_kpis_improve, demo_for_tests
from tests.devices.helpers import START

# Energy re-plans every 5 simulated minutes, slots and vans every 15; the day is the same
# whatever the van routing's deadline (its search stops well before), so a short one.
CADENCE = Cadence(
    every_s={"energy": 300.0, "slots": 900.0, "mobility": 900.0},
    deadline_s={"energy": 2.0, "slots": 1.0, "mobility": 0.5},
)


def test_the_optimiser_in_the_loop_improves_every_kpi_it_targets_over_a_day() -> None:
    scenario = demo_for_tests()
    start = start_of_day("2026-06-21", scenario.utc_offset_h)
    result = compare(
        scenario, 3, start, 86400.0, with_cadence(CADENCE), "live_domains", control_every_s=300.0
    )
    before, after = result.baseline.kpis, result.controlled.kpis
    print(result.table())  # the figures docs/devices.md quotes (pytest -s)
    assert_targeted_kpis_improve(before, after)
    commands = result.controlled.commands
    assert commands["ChargerSetpoint"] > 0 and commands["VanRoute"] > 0
    assert commands["SlotShift"] > 0  # read from the slots plan, as the twin does over MQTT
    assert result.controlled.rejected_commands == {}


def test_the_store_starts_with_history_of_other_days_and_nothing_recent(tiny: Scenario) -> None:
    policies: list[LiveDomainsPolicy] = []

    def factory(scenario: Scenario) -> Policy:
        policies.append(live_domains(scenario, Cadence(history_days=0.05)))
        return policies[0]

    run_arm(tiny, 1, START, 60.0, factory, control_every_s=600.0)
    store = policies[0].store
    feeder = tiny.feeders[0].id
    earlier = store.history(feeder, int((START - 0.05 * 86400) * 1e9), int(START * 1e9))
    assert len(earlier) > 100
    assert max(r.ts for r in earlier) <= START - HISTORY_GAP_S
    assert min(r.ts for r in earlier) >= START - 0.05 * 86400
