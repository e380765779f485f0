"""Energy on the timer: live problem from the store, solve, EV set-points for slot 0."""

from __future__ import annotations

import math
from dataclasses import asdict

from optimiser.energy.solve import EnergyPlan, solve
from optimiser.forecast import BaseLoadForecaster
from optimiser.runner import Command, Outcome, Tick
from optimiser.state import IdleCharger, LiveEnergy, LiveSettings, build_energy_problem
from territory import topics
from territory.inventory import Inventory
from territory.store import Store

ARRIVING_PER_TICK = 2  # vehicles that may plug in on one feeder between two ticks


class EnergyDomain:
    """Model-predictive control of EV charging: re-solved each tick, first slot applied."""

    name = "energy"

    def __init__(
        self,
        inventory: Inventory,
        settings: LiveSettings | None = None,
        forecaster: BaseLoadForecaster | None = None,
    ) -> None:
        self.inventory = inventory
        self.settings = settings or LiveSettings()
        self.forecaster = forecaster

    def build(self, store: Store, now: float) -> LiveEnergy | None:
        if self.forecaster is None:
            return build_energy_problem(store, now, self.inventory, self.settings)
        self.forecaster.update(store, now)
        return build_energy_problem(
            store, now, self.inventory, self.settings, self.forecaster.forecast
        )

    def solve(self, problem: LiveEnergy, tick: Tick) -> Outcome:
        plan = solve(problem.problem, time_limit=tick.deadline_s)
        body = plan.to_json()
        body["notes"] = problem.notes
        body["limit_claims"] = [asdict(claim) for claim in problem.claims]
        if self.forecaster is not None:
            body["forecast"] = self.forecaster.report()
        setpoints = {
            session: (problem.charger_zone[session], setpoint)
            for session, setpoint in plan.first_setpoints().items()
        }
        setpoints |= idle_setpoints(problem, plan)
        commands = [
            Command(
                topics.command(zone, "ev_charger", charger),
                {
                    "ts": round(tick.now, 3),
                    "setpoint": setpoint,
                    "valid_until": round(tick.valid_until, 3),
                    "plan": tick.plan_id,
                },
            )
            for charger, (zone, setpoint) in setpoints.items()
        ]
        return Outcome(status=plan.status, body=body, commands=commands)


def idle_setpoints(problem: LiveEnergy, plan: EnergyPlan) -> dict[str, tuple[str, float]]:
    """(zone, kW) for the chargers with no vehicle on feeders the plan leaves little room
    on: the first slot's unplanned headroom shared by the vehicles that may plug in before
    the next tick (a few at most; sharing it among every empty charger of a large car
    park would throttle the one vehicle that comes for nothing)."""
    arrays = plan.arrays
    if arrays.slots == 0:
        return {}
    spare = arrays.headroom[:, 0] - arrays.feeder_sum(plan.power)[:, 0]
    by_feeder: dict[str, list[IdleCharger]] = {}
    for charger in problem.idle_chargers:
        by_feeder.setdefault(charger.feeder, []).append(charger)
    found: dict[str, tuple[str, float]] = {}
    for feeder_id, idle in by_feeder.items():
        if feeder_id not in arrays.feeder_ids:
            continue
        arriving = min(len(idle), ARRIVING_PER_TICK)
        share = max(float(spare[arrays.feeder_ids.index(feeder_id)]), 0.0) / arriving
        share = math.floor(share * 1000.0) / 1000.0  # rounded down: never adds load
        for charger in idle:
            if share < charger.max_power_kw:
                found[charger.device_id] = (charger.zone, share)
    return found
