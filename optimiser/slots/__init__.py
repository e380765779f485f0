"""Time slots ("deplace-time"): spread requests over slots within their windows so that
no corridor, place or charging bay exceeds its capacity, for the least weighted shift.

`solve(problem, deadline_s)` for the live timer, `solve_file(path, time_limit, mode)`
for the command line. Heavy imports (OR-Tools) load with this package: import it only
where a solve is about to happen.
"""

from __future__ import annotations

from optimiser.slots.io import load_problem, solve_file
from optimiser.slots.model import SlotsProblem, SlotsSolution
from optimiser.slots.solver import solve

__all__ = ["SlotsProblem", "SlotsSolution", "load_problem", "solve", "solve_file"]
