"""Energy on the timer: live problem from the store, solve, EV set-points for slot 0."""

from __future__ import annotations

from optimiser.energy.solve import solve
from optimiser.forecast import BaseLoadForecaster
from optimiser.runner import Command, Outcome, Tick
from optimiser.state import LiveEnergy, LiveSettings, build_energy_problem
from territory import topics
from territory.store import Store


class EnergyDomain:
    """Model-predictive control of EV charging: re-solved each tick, first slot applied."""

    name = "energy"

    def __init__(
        self, settings: LiveSettings | None = None, forecaster: BaseLoadForecaster | None = None
    ) -> None:
        self.settings = settings or LiveSettings()
        self.forecaster = forecaster

    def build(self, store: Store, now: float) -> LiveEnergy | None:
        if self.forecaster is None:
            return build_energy_problem(store, now, self.settings)
        self.forecaster.update(store, now)
        return build_energy_problem(store, now, self.settings, self.forecaster.forecast)

    def solve(self, problem: LiveEnergy, tick: Tick) -> Outcome:
        plan = solve(problem.problem, time_limit=tick.deadline_s)
        body = plan.to_json()
        body["notes"] = problem.notes
        if self.forecaster is not None:
            body["forecast"] = self.forecaster.report()
        commands = [
            Command(
                topics.command(problem.charger_zone[session], "ev_charger", session),
                {
                    "ts": round(tick.now, 3),
                    "setpoint": setpoint,
                    "valid_until": round(tick.valid_until, 3),
                    "plan": tick.plan_id,
                },
            )
            for session, setpoint in plan.first_setpoints().items()
        ]
        return Outcome(status=plan.status, body=body, commands=commands)
