"""From group totals back to the input: each named group's slots, each person's slot.

Members of a merged group are identical, so any split of the group's units among them
is equally good; each group's units are handed out to its members in turn, nearest
slots first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.slots.assignment import Assignment
from optimiser.slots.instance import FROM_PEOPLE, WEIGHT_SCALE, Instance
from optimiser.slots.model import GroupAssignment, PeopleClasses, SlotsProblem

UNASSIGNED = -1


@dataclass(frozen=True)
class Units:
    """One entry per unit of every member: who owns it and its slot (-1: unassigned)."""

    owner: np.ndarray
    slot: np.ndarray


def spread_units(instance: Instance, assignment: Assignment) -> Units:
    """Hand each group's placed and unplaced units to its members."""
    groups = instance.groups
    left = groups.count - assignment.units_per_group(groups.size)
    group = np.concatenate([assignment.group, np.arange(groups.size)])
    slot = np.concatenate([assignment.slot, np.full(groups.size, UNASSIGNED)])
    units = np.concatenate([assignment.units, left])
    # Within a group: placed slots in order, the unassigned units last.
    order = np.argsort(group * (instance.slots + 1) + np.where(slot < 0, instance.slots, slot))
    unit_slot = np.repeat(slot[order], units[order])
    members = instance.member_order
    # Without named groups every member is one person, one unit.
    owner = np.repeat(members, instance.member_units[members]) if instance.named_groups else members
    return Units(owner=owner, slot=unit_slot)


def people_slots(instance: Instance, units: Units) -> list[int]:
    """The slot of each individual person in input order."""
    named = instance.named_groups
    mine = units.owner >= named
    slots = np.empty(int(mine.sum()), dtype=np.int64)
    slots[units.owner[mine] - named] = units.slot[mine]
    return slots.tolist()


def named_assignments(
    problem: SlotsProblem, instance: Instance, units: Units
) -> list[GroupAssignment]:
    """Where the people of each named group go."""
    mine = units.owner < instance.named_groups
    pairs = units.owner[mine] * (instance.slots + 1) + (units.slot[mine] + 1)
    found, counts = np.unique(pairs, return_counts=True)
    placed: list[dict[int, int]] = [{} for _ in problem.groups]
    unplaced = [0] * len(problem.groups)
    for pair, count in zip(found.tolist(), counts.tolist(), strict=True):
        member, slot = divmod(pair, instance.slots + 1)
        people = count * int(instance.groups.unit[instance.member_group[member]])
        if slot == 0:
            unplaced[member] = people
        else:
            placed[member][slot - 1] = people
    return [
        GroupAssignment(
            group=group.id,
            size=group.size,
            preferred=group.preferred,
            slots=placed[n],
            unassigned=unplaced[n],
        )
        for n, group in enumerate(problem.groups)
    ]


def _slots_by_group(assignment: Assignment) -> dict[int, dict[int, int]]:
    order = np.lexsort((assignment.slot, assignment.group))
    columns = (assignment.group[order], assignment.slot[order], assignment.units[order])
    placed: dict[int, dict[int, int]] = {}
    for g, slot, units in zip(*(column.tolist() for column in columns), strict=True):
        placed.setdefault(g, {})[slot] = units
    return placed


def people_classes(instance: Instance, assignment: Assignment) -> PeopleClasses:
    """Where each class of identical people goes."""
    groups = instance.groups
    placed = _slots_by_group(assignment)
    mine = np.flatnonzero(groups.origin == FROM_PEOPLE)
    slots = [placed.get(g, {}) for g in mine.tolist()]
    people = groups.count[mine].tolist()
    # Built from the solver's own arrays: model_construct spares re-validating them.
    return PeopleClasses.model_construct(
        resource=[instance.resource_ids[r] for r in groups.set_id[mine].tolist()],
        preferred=groups.preferred[mine].tolist(),
        earliest=groups.earliest[mine].tolist(),
        latest=groups.latest[mine].tolist(),
        weight=(groups.weight_milli[mine] / WEIGHT_SCALE).tolist(),
        people=people,
        slots=slots,
        unassigned=[n - sum(s.values()) for n, s in zip(people, slots, strict=True)],
    )
