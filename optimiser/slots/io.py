"""Read a problem file, solve it, return a JSON-able plan body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimiser.errors import ProblemError
from optimiser.slots.model import SlotsProblem
from optimiser.slots.solver import solve

_UNION_TAGS = {"int", "float", "list[int]", "list[float]"}


def describe(error: ValidationError) -> str:
    """One error per clause, each naming the field (`groups[2].size: ...`)."""
    lines = []
    for item in error.errors(include_url=False):
        where = ""
        for part in item["loc"]:
            if part in _UNION_TAGS:  # which branch of `int | list[int]` failed: noise here
                continue
            where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


def load_problem(path: Path) -> SlotsProblem:
    """The problem in the JSON (or YAML) file `path`; ProblemError if it is not one."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ProblemError(f"{path}: cannot read ({error.strerror or error})") from error
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            data: Any = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ProblemError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {error}"
        ) from error
    if not isinstance(data, dict):
        raise ProblemError(f"{path}: the problem must be an object with slots, resources, groups")
    try:
        return SlotsProblem.model_validate(data)
    except ValidationError as error:
        raise ProblemError(f"{path}: {describe(error)}") from error


def solve_file(path: Path, time_limit: float, mode: str | None) -> dict[str, Any]:
    """Solve the problem in `path` within `time_limit` seconds with `mode` (flow, cpsat,
    or None for the fitting one); the plan as a JSON-able dict."""
    if not time_limit > 0:
        raise ProblemError(f"time_limit: must be a positive number of seconds, not {time_limit}")
    problem = load_problem(path)
    solution = solve(problem, time_limit, mode=mode)
    return solution.model_dump(mode="json")
