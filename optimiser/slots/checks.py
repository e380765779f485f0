"""Consistency checks of a slots problem that pydantic's per-field rules cannot express.

Every message names the field (`groups[3].latest`, `people.earliest[17]`, ...), so a
malformed problem is rejected with a line the author can act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optimiser.slots.model import People, Request, Resource, SlotsProblem

MAX_SLOTS = 10_000
MAX_WEIGHT = 1_000.0
MAX_GROUP_SIZE = 10_000_000
MAX_CAPACITY = 1e12
_MAX_MESSAGES = 10


def check_problem(problem: SlotsProblem) -> None:
    """Raise ValueError listing what is inconsistent in `problem`."""
    problems = _resource_problems(problem.resources, problem.slots)
    known = {resource.id for resource in problem.resources}
    problems += _group_problems(problem.groups, known, problem.slots)
    if problem.people is not None:
        problems += _people_problems(problem.people, known, problem.slots)
    if problems:
        shown = problems[:_MAX_MESSAGES]
        more = len(problems) - len(shown)
        raise ValueError("; ".join(shown) + (f"; and {more} more" if more else ""))


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for name in ids:
        if name in seen:
            repeated.append(name)
        seen.add(name)
    return repeated


def _resource_problems(resources: list[Resource], slots: int) -> list[str]:
    problems = [f"resources: duplicate id {i!r}" for i in _duplicates([r.id for r in resources])]
    for n, resource in enumerate(resources):
        for name in ("capacity", "background"):
            value = getattr(resource, name)
            values = np.atleast_1d(np.asarray(value, dtype=np.float64))
            if isinstance(value, list) and len(value) != slots:
                problems.append(
                    f"resources[{n}].{name}: {len(value)} values for {slots} slots "
                    "(give one number, or one per slot)"
                )
            elif not np.all(np.isfinite(values)) or np.any(values < 0):
                problems.append(f"resources[{n}].{name}: must be finite and never negative")
            elif np.any(values > MAX_CAPACITY):
                problems.append(f"resources[{n}].{name}: above {MAX_CAPACITY:.0e} people")
    return problems


def _window_problem(
    where: str, preferred: int, earliest: int, latest: int, slots: int
) -> str | None:
    if latest >= slots:
        return f"{where}.latest: slot {latest} is past the last slot {slots - 1}"
    if preferred >= slots:
        return f"{where}.preferred: slot {preferred} is past the last slot {slots - 1}"
    if earliest > preferred:
        return f"{where}.earliest: slot {earliest} is after the preferred slot {preferred}"
    if latest < preferred:
        return f"{where}.latest: slot {latest} is before the preferred slot {preferred}"
    return None


def _group_problems(groups: list[Request], known: set[str], slots: int) -> list[str]:
    problems = [f"groups: duplicate id {i!r}" for i in _duplicates([g.id for g in groups])]
    for n, group in enumerate(groups):
        for unknown in sorted(set(group.resources) - known):
            problems.append(f"groups[{n}].resources: unknown resource {unknown!r}")
        if len(set(group.resources)) != len(group.resources):
            problems.append(f"groups[{n}].resources: a resource is listed twice")
        earliest, latest = group.window
        window = _window_problem(f"groups[{n}]", group.preferred, earliest, latest, slots)
        if window:
            problems.append(window)
    return problems


def _first_bad(where: str, bad: np.ndarray, values: np.ndarray, why: str) -> list[str]:
    """One message for the first person where `bad` holds, counting the others."""
    hits = np.flatnonzero(bad)
    if hits.size == 0:
        return []
    first = int(hits[0])
    others = f" ({hits.size - 1} more people alike)" if hits.size > 1 else ""
    return [f"{where}[{first}]: {values[first]} {why}{others}"]


def _people_problems(people: People, known: set[str], slots: int) -> list[str]:
    count = len(people.preferred)
    columns: dict[str, list[str] | list[int] | list[float] | None] = {
        "resource": people.resource,
        "earliest": people.earliest,
        "latest": people.latest,
        "weight": people.weight,
    }
    problems = [
        f"people.{name}: {len(column)} entries for {count} people in people.preferred"
        for name, column in columns.items()
        if column is not None and len(column) != count
    ]
    if problems:
        return problems
    unknown = sorted(set(people.resource) - known)
    if unknown:
        first = people.resource.index(unknown[0])
        problems.append(f"people.resource[{first}]: unknown resource {unknown[0]!r}")
    try:
        preferred, earliest, latest, weight = people.columns()
    except OverflowError:
        return ["people: a slot number is far out of range"]
    problems += _first_bad("people.preferred", preferred < 0, preferred, "is before slot 0")
    problems += _first_bad(
        "people.preferred", preferred >= slots, preferred, f"is past the last slot {slots - 1}"
    )
    problems += _first_bad(
        "people.latest", latest >= slots, latest, f"is past the last slot {slots - 1}"
    )
    problems += _first_bad("people.earliest", earliest < 0, earliest, "is before slot 0")
    problems += _first_bad(
        "people.earliest", earliest > preferred, earliest, "is after the preferred slot"
    )
    problems += _first_bad(
        "people.latest", latest < preferred, latest, "is before the preferred slot"
    )
    bad_weight = ~np.isfinite(weight) | (weight < 0) | (weight > MAX_WEIGHT)
    problems += _first_bad("people.weight", bad_weight, weight, f"is not in [0, {MAX_WEIGHT:g}]")
    return problems
