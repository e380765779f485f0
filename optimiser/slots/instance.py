"""The numeric form of a slots problem: capacities as arrays, requests merged into groups.

A *member* is one input row: a named group (`groups[i]`) or one person (`people`).
Members with the same key (origin, resource set, preferred, earliest, latest, weight,
unit) merge into one group. A splittable member brings `size` units of one person; a
member kept whole brings one unit of `size` people, so identical whole groups merge too
and the solvers decide how many of those units go to each slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.slots.grouping import group_rows, group_totals
from optimiser.slots.model import SlotsProblem

FROM_GROUPS, FROM_PEOPLE = 0, 1
WEIGHT_SCALE = 1000
"""Weights are integers in thousandths inside the solvers (exact costs for the flow)."""


@dataclass(frozen=True)
class GroupTable:
    """G merged groups, one array per attribute."""

    origin: np.ndarray  # FROM_GROUPS or FROM_PEOPLE
    set_id: np.ndarray  # resource set; ids below R are the single resources
    preferred: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    weight_milli: np.ndarray
    unit: np.ndarray  # people per unit: 1, or the size of a group kept whole
    count: np.ndarray  # units in the group

    @property
    def size(self) -> int:
        return int(self.preferred.size)


@dataclass(frozen=True)
class Instance:
    """Everything the solvers, the fallback and the report need."""

    slots: int
    resource_ids: list[str]
    capacity: np.ndarray  # [R, T] people per slot
    background: np.ndarray  # [R, T] forecast load
    residual: np.ndarray  # [R, T] int: people the requests may add per slot
    resource_sets: list[tuple[int, ...]]  # set id -> resource indices
    groups: GroupTable
    member_group: np.ndarray  # [M] group of each member (named groups first, then people)
    member_order: np.ndarray  # [M] members sorted by group
    member_units: np.ndarray  # [M] units each member brings
    named_groups: int  # members 0..named_groups-1 are problem.groups

    def incidence(self) -> np.ndarray:
        """[S, R] 1 where resource set s holds resource r."""
        matrix = np.zeros((len(self.resource_sets), len(self.resource_ids)), dtype=np.int64)
        for set_id, members in enumerate(self.resource_sets):
            matrix[set_id, list(members)] = 1
        return matrix


def _capacities(problem: SlotsProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pairs = [resource.per_slot(problem.slots) for resource in problem.resources]
    capacity = np.array([c for c, _ in pairs], dtype=np.float64)
    background = np.array([b for _, b in pairs], dtype=np.float64)
    # Requests are whole people: what they may add is the floor of the room left.
    residual = np.floor(capacity - background + 1e-9).clip(min=0).astype(np.int64)
    return capacity, background, residual


_COLUMNS = 8  # origin, set, preferred, earliest, latest, weight, unit, units


def _group_columns(problem: SlotsProblem, sets: dict[tuple[int, ...], int]) -> list[np.ndarray]:
    """The named groups' key columns and units."""
    index = {resource.id: n for n, resource in enumerate(problem.resources)}
    rows = []
    for group in problem.groups:
        members = tuple(sorted(index[name] for name in group.resources))
        set_id = members[0] if len(members) == 1 else sets.setdefault(members, len(sets))
        earliest, latest = group.window
        whole = group.whole and group.size > 1
        unit, units = (group.size, 1) if whole else (1, group.size)
        weight = round(group.weight * WEIGHT_SCALE)
        rows.append((FROM_GROUPS, set_id, group.preferred, earliest, latest, weight, unit, units))
    table = np.array(rows, dtype=np.int64).reshape(-1, _COLUMNS)
    return [np.ascontiguousarray(table[:, n]) for n in range(_COLUMNS)]


def _people_columns(problem: SlotsProblem) -> list[np.ndarray]:
    """The individual people's key columns and units (one unit each)."""
    people = problem.people
    if people is None:
        return [np.zeros(0, dtype=np.int64)] * _COLUMNS
    index = {resource.id: n for n, resource in enumerate(problem.resources)}
    count = len(people.preferred)
    resource = np.fromiter(map(index.__getitem__, people.resource), np.int64, count)
    preferred, earliest, latest, weight = people.columns()
    weight_milli = np.rint(weight * WEIGHT_SCALE).astype(np.int64)
    ones = np.ones(count, dtype=np.int64)
    origin = np.full(count, FROM_PEOPLE, dtype=np.int64)
    return [origin, resource, preferred, earliest, latest, weight_milli, ones, ones]


def build_instance(problem: SlotsProblem) -> Instance:
    """Arrays and merged groups for `problem` (already validated)."""
    capacity, background, residual = _capacities(problem)
    resources = len(problem.resources)
    sets: dict[tuple[int, ...], int] = {(r,): r for r in range(resources)}
    named, people = _group_columns(problem, sets), _people_columns(problem)
    columns = (
        [np.concatenate(pair) for pair in zip(named, people, strict=True)]
        if problem.groups and problem.people is not None
        else (named if problem.groups else people)
    )
    grouped = group_rows(columns[:7])
    key = [column[grouped.first] for column in columns[:7]]
    groups = GroupTable(
        origin=key[0],
        set_id=key[1],
        preferred=key[2],
        earliest=key[3],
        latest=key[4],
        weight_milli=key[5],
        unit=key[6],
        count=group_totals(grouped, columns[7]),
    )
    return Instance(
        slots=problem.slots,
        resource_ids=[resource.id for resource in problem.resources],
        capacity=capacity,
        background=background,
        residual=residual,
        resource_sets=sorted(sets, key=sets.__getitem__),
        groups=groups,
        member_group=grouped.inverse,
        member_order=grouped.order,
        member_units=columns[7],
        named_groups=len(problem.groups),
    )
