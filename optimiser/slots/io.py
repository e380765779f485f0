"""Read a problem file, solve it, return a JSON-able plan body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimiser.errors import ProblemError, load_problem_file
from optimiser.slots.model import SlotsProblem
from optimiser.slots.solver import solve


def load_problem(path: Path) -> SlotsProblem:
    """The problem in the JSON (or YAML) file `path`; ProblemError if it is not one."""
    return load_problem_file(SlotsProblem, path)


def solve_file(path: Path, time_limit: float, mode: str | None) -> dict[str, Any]:
    """Solve the problem in `path` within `time_limit` seconds with `mode` (flow, cpsat,
    or None for the fitting one); the plan as a JSON-able dict."""
    if not time_limit > 0:
        raise ProblemError(f"time_limit: must be a positive number of seconds, not {time_limit}")
    problem = load_problem(path)
    solution = solve(problem, time_limit, mode=mode)
    return solution.model_dump(mode="json")
