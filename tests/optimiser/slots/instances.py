"""Random slots problems: uniform or crowded around a rush hour, groups and single people."""

from __future__ import annotations

from typing import Any

import numpy as np

from tests.optimiser.slots.reading import Problem

KINDS = ("corridor", "place", "charging_bay")


def _window(
    rng: np.random.Generator, slots: int, reach: int, peak: int | None = None
) -> tuple[int, int, int]:
    if peak is None:
        preferred = int(rng.integers(0, slots))
    else:  # crowd around one slot, the rush hour
        preferred = min(slots - 1, max(0, peak + int(rng.integers(-1, 2))))
    earliest = max(0, preferred - int(rng.integers(0, reach + 1)))
    latest = min(slots - 1, preferred + int(rng.integers(0, reach + 1)))
    return preferred, earliest, latest


def _resources(
    rng: np.random.Generator, count: int, slots: int, scale: int
) -> list[dict[str, Any]]:
    found = []
    for r in range(count):
        capacity: int | list[int] = int(rng.integers(0, scale + 1))
        if rng.random() < 0.5:
            capacity = rng.integers(0, scale + 1, slots).tolist()
        background = np.round(rng.random(slots) * scale / 3, 1).tolist()
        found.append(
            {"id": f"r{r}", "kind": KINDS[r % 3], "capacity": capacity, "background": background}
        )
    return found


def random_problem(
    rng: np.random.Generator,
    *,
    groups: int,
    people: int = 0,
    resources: int = 2,
    slots: int = 6,
    max_size: int = 12,
    reach: int = 2,
    per_group: int = 1,
    whole: float = 0.0,
    scale: int = 15,
    peak: int | None = None,
) -> Problem:
    """A random problem: `per_group` resources per group, a share `whole` kept whole,
    preferred slots uniform or around `peak`."""
    problem: Problem = {
        "slots": slots,
        "resources": _resources(rng, resources, slots, scale),
        "groups": [],
    }
    for n in range(groups):
        preferred, earliest, latest = _window(rng, slots, reach, peak)
        used = rng.choice(resources, size=min(per_group, resources), replace=False)
        problem["groups"].append(
            {
                "id": f"g{n}",
                "size": int(rng.integers(1, max_size + 1)),
                "resources": [f"r{r}" for r in sorted(used.tolist())],
                "preferred": preferred,
                "earliest": earliest,
                "latest": latest,
                "weight": float(rng.choice([0.5, 1.0, 2.0, 3.25])),
                "whole": bool(rng.random() < whole),
            }
        )
    if people:
        windows = [_window(rng, slots, reach, peak) for _ in range(people)]
        problem["people"] = {
            "resource": [f"r{r}" for r in rng.integers(0, resources, people).tolist()],
            "preferred": [w[0] for w in windows],
            "earliest": [w[1] for w in windows],
            "latest": [w[2] for w in windows],
            "weight": rng.choice([1.0, 2.5], people).tolist(),
        }
    return problem
