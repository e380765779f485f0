"""Mobility rebalancing: the night run (static) and the day run (dynamic).

`solve_file` answers `territory optimise solve mobility PROBLEM.json`; `plan_dynamic`
is what the live timer calls with the current state and forecast.
"""

from __future__ import annotations

from optimiser.mobility.dynamic.plan import plan_dynamic
from optimiser.mobility.io import load_problem, solve_file
from optimiser.mobility.model import DynamicPlan, DynamicProblem, StaticProblem

__all__ = [
    "DynamicPlan",
    "DynamicProblem",
    "StaticProblem",
    "load_problem",
    "plan_dynamic",
    "solve_file",
]
