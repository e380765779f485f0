"""The fallback: a plan that is always feasible, found in one pass without a solver.

Groups are taken heaviest weight first (a shift costs them most), narrowest window next
(they have the fewest choices), largest unit next (whole groups are hardest to fit);
each fills the slots of its window nearest its preferred slot first.
"""

from __future__ import annotations

import numpy as np

from optimiser.slots.assignment import Assignment
from optimiser.slots.instance import Instance


def _slots_by_distance(preferred: int, earliest: int, latest: int) -> list[int]:
    window = range(earliest, latest + 1)
    return sorted(window, key=lambda slot: (abs(slot - preferred), slot))


def greedy(instance: Instance) -> Assignment:
    """A feasible assignment of as many people as the greedy order can place."""
    groups = instance.groups
    room = instance.residual.copy()
    width = groups.latest - groups.earliest
    order = np.lexsort((-groups.unit, width, -groups.weight_milli))
    placed: list[tuple[int, int, int]] = []
    for g in order.tolist():
        members = list(instance.resource_sets[int(groups.set_id[g])])
        unit, left = int(groups.unit[g]), int(groups.count[g])
        window = (int(groups.preferred[g]), int(groups.earliest[g]), int(groups.latest[g]))
        for slot in _slots_by_distance(*window):
            if left == 0:
                break
            take = min(left, int(room[members, slot].min()) // unit)
            if take > 0:
                room[members, slot] -= take * unit
                left -= take
                placed.append((g, slot, take))
    if not placed:
        return Assignment.empty()
    return Assignment.of(*np.array(placed, dtype=np.int64).T)
