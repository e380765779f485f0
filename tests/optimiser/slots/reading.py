"""The slots problem format as the independent checks read it: requests, room, placements.

Written from the problem format alone, sharing no code with optimiser.slots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

Problem = dict[str, Any]
Plan = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """One input request as the checks see it: a named group or one person."""

    resources: tuple[str, ...]
    size: int
    preferred: int
    earliest: int
    latest: int
    weight: float
    whole: bool


def requests(problem: Problem) -> list[Request]:
    """Named groups first, then one request per person, in input order."""
    found = []
    for group in problem.get("groups", []):
        preferred = group["preferred"]
        found.append(
            Request(
                resources=tuple(group["resources"]),
                size=group["size"],
                preferred=preferred,
                earliest=group.get("earliest", preferred),
                latest=group.get("latest", preferred),
                weight=group.get("weight", 1.0),
                whole=group.get("whole", False) and group["size"] > 1,
            )
        )
    people = problem.get("people") or {}
    for n, preferred in enumerate(people.get("preferred", [])):
        found.append(
            Request(
                resources=(people["resource"][n],),
                size=1,
                preferred=preferred,
                earliest=(people.get("earliest") or people["preferred"])[n],
                latest=(people.get("latest") or people["preferred"])[n],
                weight=(people.get("weight") or [1.0] * len(people["preferred"]))[n],
                whole=False,
            )
        )
    return found


def per_slot(value: float | list[float], slots: int) -> list[float]:
    return list(value) if isinstance(value, list) else [value] * slots


def room(problem: Problem) -> dict[str, list[int]]:
    """People the requests may add per resource and slot (whole people)."""
    slots = problem["slots"]
    return {
        r["id"]: [
            max(0, math.floor(c - b + 1e-9))
            for c, b in zip(
                per_slot(r["capacity"], slots),
                per_slot(r.get("background", 0.0), slots),
                strict=True,
            )
        ]
        for r in problem["resources"]
    }


def placements(problem: Problem, plan: Plan) -> list[dict[int, int]]:
    """People per slot of every request, read from the plan (same order as requests())."""
    found = [{int(k): v for k, v in a["slots"].items()} for a in plan["assignments"]]
    for slot in plan["people_slots"]:
        found.append({} if slot == -1 else {slot: 1})
    return found
