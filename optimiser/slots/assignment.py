"""A solver's answer in group terms: units of group g placed in slot t."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.slots.instance import WEIGHT_SCALE, Instance


@dataclass(frozen=True)
class Assignment:
    """Parallel arrays, one entry per (group, slot) with units > 0."""

    group: np.ndarray
    slot: np.ndarray
    units: np.ndarray

    @classmethod
    def of(cls, group: object, slot: object, units: object) -> Assignment:
        arrays = [np.asarray(a, dtype=np.int64).reshape(-1) for a in (group, slot, units)]
        keep = arrays[2] > 0
        return cls(group=arrays[0][keep], slot=arrays[1][keep], units=arrays[2][keep])

    @classmethod
    def empty(cls) -> Assignment:
        return cls.of([], [], [])

    def units_per_group(self, groups: int) -> np.ndarray:
        totals = np.bincount(self.group, weights=self.units, minlength=groups)
        return np.rint(totals).astype(np.int64)

    def people(self, instance: Instance) -> np.ndarray:
        """People of each entry (units x people per unit)."""
        return self.units * instance.groups.unit[self.group]

    def shift(self, instance: Instance) -> np.ndarray:
        """|slot - preferred| of each entry."""
        return np.abs(self.slot - instance.groups.preferred[self.group])

    def weighted_shift_milli(self, instance: Instance) -> int:
        """The objective in thousandths of a weight unit (exact integer)."""
        weight = instance.groups.weight_milli[self.group]
        return int(np.sum(weight * self.shift(instance) * self.people(instance)))

    def weighted_shift(self, instance: Instance) -> float:
        return self.weighted_shift_milli(instance) / WEIGHT_SCALE

    def unassigned_people(self, instance: Instance) -> int:
        groups = instance.groups
        left = groups.count - self.units_per_group(groups.size)
        return int(np.sum(left * groups.unit))
