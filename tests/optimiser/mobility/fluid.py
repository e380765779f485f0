"""A plain-loop fluid simulation of one station, written apart from the package's.

Within each forecast interval the station gains (returns - pickups) x (share of the
interval elapsed) vehicles; below 0 or above capacity the excess is lost demand.
"""

from __future__ import annotations

from optimiser.mobility.model import DynamicProblem


def simulate(
    problem: DynamicProblem, station: int, visit_at: float | None = None, change: int = 0
) -> tuple[float, float]:
    """(inventory just before the visit, total lost demand over the horizon)."""
    spec = problem.stations[station]
    level, lost, width = float(spec.inventory), 0.0, problem.interval_s
    before_visit = level
    events = [
        (h * width, (h + 1) * width, spec.returns[h] - spec.pickups[h])
        for h in range(problem.horizon)
    ]
    for start, end, net in events:
        pieces = [(start, end)]
        if visit_at is not None and start <= visit_at < end:
            pieces = [(start, visit_at), (visit_at, end)]
        for a, b in pieces:
            if visit_at is not None and a == visit_at:
                before_visit = level
                level -= change
                assert -1e-9 <= level <= spec.capacity + 1e-9, "visit breaks station capacity"
            level += net * (b - a) / width
            if level < 0:
                lost, level = lost - level, 0.0
            if level > spec.capacity:
                lost, level = lost + level - spec.capacity, float(spec.capacity)
    if visit_at is not None and visit_at >= problem.horizon * width:
        before_visit = level
        level -= change
        assert -1e-9 <= level <= spec.capacity + 1e-9, "visit breaks station capacity"
    return before_visit, lost
