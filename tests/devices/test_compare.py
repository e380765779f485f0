"""A seeded day with a policy in the loop against the same day without it."""

from __future__ import annotations

from devices.commands import Command
from devices.compare import compare, run_arm, start_of_day
from devices.observe import Observation
from devices.policies import Policy, reference
from devices.scenario import Scenario
from tests.devices.demo import assert_targeted_kpis_improve, demo_for_tests


def test_the_reference_policy_improves_what_it_targets_over_a_day() -> None:
    scenario = demo_for_tests()
    start = start_of_day("2026-06-21", scenario.utc_offset_h)
    result = compare(scenario, 3, start, 86400.0, reference, "reference")
    before, after = result.baseline.kpis, result.controlled.kpis
    assert_targeted_kpis_improve(before, after)
    assert result.controlled.commands["ChargerSetpoint"] > 0
    assert result.controlled.rejected_commands == {}
    assert result.baseline.commands == {}
    assert "feeder_minutes_over_limit" in result.table()


def test_a_policy_sees_decoded_telemetry_vans_and_bookings() -> None:
    scenario = demo_for_tests()
    seen: list[Observation] = []

    def factory(_: Scenario) -> Policy:
        def policy(observation: Observation) -> list[Command]:
            seen.append(observation)
            return []

        return policy

    start = start_of_day("2026-06-21", scenario.utc_offset_h)
    arm = run_arm(scenario, 1, start, 3600.0, factory, control_every_s=600.0)
    assert len(seen) == 7  # at 0, 10, ..., 60 minutes
    last = seen[-1]
    assert last.now == start + 3600.0
    feeders = last.of_kind("feeder")
    assert {r.device_id for r in feeders} == {f.id for f in scenario.feeders}
    assert all(r.ts <= last.now for r in feeders)
    assert len(last.vans) == len(scenario.vans)
    assert {s.corridor for s in last.slots} == {c.id for c in scenario.corridors}
    assert arm.commands == {}
