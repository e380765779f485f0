"""Loads per resource and slot, and the plan's KPIs against doing nothing.

Doing nothing means everyone at the preferred slot, whatever the capacity.
"""

from __future__ import annotations

import numpy as np

from optimiser.slots.assignment import Assignment
from optimiser.slots.instance import Instance
from optimiser.slots.model import SlotsKpis

_TOLERANCE = 1e-9


def request_load(
    instance: Instance, set_id: np.ndarray, slot: np.ndarray, people: np.ndarray
) -> np.ndarray:
    """[R, T] people the requests put on each resource at each slot."""
    per_set = np.zeros((len(instance.resource_sets), instance.slots), dtype=np.int64)
    np.add.at(per_set, (set_id, slot), people)
    return instance.incidence().T @ per_set


def load_before(instance: Instance) -> np.ndarray:
    """[R, T] total load with everyone at the preferred slot, background included."""
    groups = instance.groups
    people = groups.count * groups.unit
    return instance.background + request_load(instance, groups.set_id, groups.preferred, people)


def load_after(instance: Instance, assignment: Assignment) -> np.ndarray:
    """[R, T] total load with the plan, background included."""
    set_id = instance.groups.set_id[assignment.group]
    people = assignment.people(instance)
    return instance.background + request_load(instance, set_id, assignment.slot, people)


def _peaks(
    instance: Instance, load: np.ndarray
) -> tuple[dict[str, float], dict[str, float | None]]:
    peaks, utilisation = {}, {}
    for r, name in enumerate(instance.resource_ids):
        peaks[name] = round(float(load[r].max()), 6)
        served = instance.capacity[r] > 0
        ratio = load[r][served] / instance.capacity[r][served]
        utilisation[name] = round(float(ratio.max()), 6) if ratio.size else None
    return peaks, utilisation


def _overloaded(instance: Instance, load: np.ndarray) -> int:
    return int(np.count_nonzero(load > instance.capacity + _TOLERANCE))


def compute_kpis(
    instance: Instance, assignment: Assignment, slot_minutes: int | None
) -> tuple[SlotsKpis, np.ndarray, np.ndarray]:
    """The KPIs, and the loads before and after ([R, T] each)."""
    before, after = load_before(instance), load_after(instance, assignment)
    people = assignment.people(instance)
    shift = assignment.shift(instance)
    total = int((instance.groups.count * instance.groups.unit).sum())
    assigned = int(people.sum())
    total_shift = int((people * shift).sum())
    peak_before, utilisation_before = _peaks(instance, before)
    peak_after, utilisation_after = _peaks(instance, after)
    kpis = SlotsKpis(
        people=total,
        people_assigned=assigned,
        people_unassigned=total - assigned,
        people_shifted=int(people[shift > 0].sum()),
        total_shift_slots=total_shift,
        total_shift_minutes=None if slot_minutes is None else float(total_shift * slot_minutes),
        weighted_shift=assignment.weighted_shift(instance),
        peak_load_before=peak_before,
        peak_load_after=peak_after,
        peak_utilisation_before=utilisation_before,
        peak_utilisation_after=utilisation_after,
        overloaded_slots_before=_overloaded(instance, before),
        overloaded_slots_after=_overloaded(instance, after),
    )
    return kpis, before, after
