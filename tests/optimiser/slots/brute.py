"""The optimum of a tiny slots problem by trying every choice."""

from __future__ import annotations

import itertools

from tests.optimiser.slots.reading import Problem, requests, room


def brute_force(problem: Problem) -> tuple[int, float]:
    """Lexicographic optimum of whole requests by trying every choice (tiny problems)."""
    asked = requests(problem)
    free = room(problem)
    assert all(r.whole or r.size == 1 for r in asked)
    choices = [[None, *range(r.earliest, r.latest + 1)] for r in asked]
    best: tuple[int, float] | None = None
    for pick in itertools.product(*choices):
        load = {resource: [0] * problem["slots"] for resource in free}
        for request, slot in zip(asked, pick, strict=True):
            if slot is not None:
                for resource in request.resources:
                    load[resource][slot] += request.size
        if any(load[r][t] > free[r][t] for r in free for t in range(problem["slots"])):
            continue
        unassigned = sum(r.size for r, s in zip(asked, pick, strict=True) if s is None)
        shift = sum(
            r.weight * r.size * abs(s - r.preferred)
            for r, s in zip(asked, pick, strict=True)
            if s is not None
        )
        if best is None or (unassigned, shift) < best:
            best = (unassigned, shift)
    assert best is not None
    return best
