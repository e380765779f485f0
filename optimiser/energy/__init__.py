"""Energy: EV charging and batteries scheduled under feeder limits (a linear programme)."""

from __future__ import annotations

from optimiser.energy.model import BatterySpec, EnergyProblem, FeederSpec, SessionSpec
from optimiser.energy.solve import EnergyPlan, load_problem, solve, solve_file

__all__ = [
    "BatterySpec",
    "EnergyPlan",
    "EnergyProblem",
    "FeederSpec",
    "SessionSpec",
    "load_problem",
    "solve",
    "solve_file",
]
