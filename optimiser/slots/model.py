"""The time-slot problem and solution formats (pydantic, every field described).

A problem has a horizon of `slots` numbered 0..slots-1, resources (a transit corridor,
a shared place, a charging bay) with a capacity and a background load per slot, and
requests: named groups (`groups`) and, for large populations, individual people given
column by column (`people`). Every request has a preferred slot and a window
[earliest, latest] around it; it is assigned inside its window or left unassigned.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from optimiser.slots.checks import MAX_GROUP_SIZE, MAX_SLOTS, MAX_WEIGHT, check_problem

Status = Literal["optimal", "feasible", "fallback", "failed"]
Mode = Literal["flow", "cpsat"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resource(_Strict):
    """A capacity shared slot by slot: a corridor, a place, a charging bay."""

    id: str = Field(min_length=1, description="Unique name the requests refer to.")
    kind: Literal["corridor", "place", "charging_bay"] = Field(
        description="What the resource is: a transit corridor, a shared place or a charging bay."
    )
    capacity: int | list[int] = Field(
        description="People the resource takes per slot, background included: one number "
        "for every slot or one number per slot. Never negative."
    )
    background: float | list[float] = Field(
        default=0.0,
        description="Forecast load not covered by the requests (people per slot): one number "
        "for every slot or one per slot. Never negative.",
    )

    def per_slot(self, slots: int) -> tuple[np.ndarray, np.ndarray]:
        """Capacity and background as float arrays of length `slots`."""
        capacity = np.broadcast_to(np.asarray(self.capacity, dtype=np.float64), (slots,))
        background = np.broadcast_to(np.asarray(self.background, dtype=np.float64), (slots,))
        return capacity, background


class Request(_Strict):
    """A group of people wanting the same resources around the same slot."""

    id: str = Field(min_length=1, description="Unique name of the group.")
    size: int = Field(ge=1, le=MAX_GROUP_SIZE, description="People in the group.")
    resources: list[str] = Field(
        min_length=1,
        description="Ids of the resources every person of the group uses in the slot given.",
    )
    preferred: int = Field(ge=0, description="The slot asked for.")
    earliest: int | None = Field(
        default=None, ge=0, description="First acceptable slot; the preferred slot if absent."
    )
    latest: int | None = Field(
        default=None, ge=0, description="Last acceptable slot; the preferred slot if absent."
    )
    weight: float = Field(
        default=1.0,
        ge=0.0,
        le=MAX_WEIGHT,
        description="Cost of shifting one person by one slot (taken to 0.001).",
    )
    whole: bool = Field(
        default=False,
        description="Keep the group in one slot, everyone or nobody; otherwise it may be "
        "split person by person.",
    )

    @property
    def window(self) -> tuple[int, int]:
        earliest = self.preferred if self.earliest is None else self.earliest
        latest = self.preferred if self.latest is None else self.latest
        return earliest, latest


class People(_Strict):
    """Individual people, one entry per person in every column (columns keep it compact)."""

    resource: list[str] = Field(description="Id of the resource each person uses.")
    preferred: list[int] = Field(description="The slot each person asks for.")
    earliest: list[int] | None = Field(
        default=None, description="First acceptable slot of each person; preferred if absent."
    )
    latest: list[int] | None = Field(
        default=None, description="Last acceptable slot of each person; preferred if absent."
    )
    weight: list[float] | None = Field(
        default=None,
        description="Cost of shifting each person by one slot (taken to 0.001); 1 if absent.",
    )

    _arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = PrivateAttr(None)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """preferred, earliest, latest, weight as numpy arrays (computed once: the columns
        are not to be changed after validation)."""
        if self._arrays is None:
            count = len(self.preferred)

            def ints(column: list[int]) -> np.ndarray:
                return np.fromiter(column, np.int64, count)

            preferred = ints(self.preferred)
            earliest = preferred if self.earliest is None else ints(self.earliest)
            latest = preferred if self.latest is None else ints(self.latest)
            weight = (
                np.ones(count)
                if self.weight is None
                else np.fromiter(self.weight, np.float64, count)
            )
            self._arrays = (preferred, earliest, latest, weight)
        return self._arrays


class SlotsProblem(_Strict):
    """Assign requests to slots within their windows without exceeding any capacity."""

    slots: int = Field(ge=1, le=MAX_SLOTS, description="Slots in the horizon, numbered from 0.")
    slot_minutes: int | None = Field(
        default=None, ge=1, description="Length of one slot in minutes (reports shifts in minutes)."
    )
    resources: list[Resource] = Field(min_length=1, description="The shared resources.")
    groups: list[Request] = Field(default_factory=list, description="Named groups of people.")
    people: People | None = Field(
        default=None, description="Individual people, column by column, for large populations."
    )

    @model_validator(mode="after")
    def _consistent(self) -> SlotsProblem:
        check_problem(self)
        return self


class GroupAssignment(_Strict):
    """Where the people of one named group go."""

    group: str = Field(description="The group's id.")
    size: int = Field(description="People in the group.")
    preferred: int = Field(description="The slot asked for.")
    slots: dict[int, int] = Field(description="People per assigned slot (slots with people only).")
    unassigned: int = Field(description="People of the group left without a slot.")


class PeopleClasses(_Strict):
    """Identical individual people (same resource, window and weight) merged into classes,
    column by column like the `people` block: entry i of every column is class i."""

    resource: list[str] = Field(description="The resource the class uses.")
    preferred: list[int] = Field(description="The class's preferred slot.")
    earliest: list[int] = Field(description="The class's first acceptable slot.")
    latest: list[int] = Field(description="The class's last acceptable slot.")
    weight: list[float] = Field(description="The class's weight (cost per person per slot).")
    people: list[int] = Field(description="People in the class.")
    slots: list[dict[int, int]] = Field(description="People of the class per assigned slot.")
    unassigned: list[int] = Field(description="People of the class left without a slot.")


class SlotsKpis(_Strict):
    """The plan against doing nothing (everyone at the preferred slot)."""

    people: int = Field(description="People in all requests.")
    people_assigned: int = Field(description="People given a slot.")
    people_unassigned: int = Field(description="People left without a slot.")
    people_shifted: int = Field(description="People given a slot other than the preferred one.")
    total_shift_slots: int = Field(description="Sum over assigned people of |slot - preferred|.")
    total_shift_minutes: float | None = Field(
        description="total_shift_slots in minutes, when slot_minutes is known."
    )
    weighted_shift: float = Field(description="Sum of weight x |slot - preferred| (objective).")
    peak_load_before: dict[str, float] = Field(
        description="Per resource, the highest load over the slots (background included) "
        "with everyone at the preferred slot."
    )
    peak_load_after: dict[str, float] = Field(
        description="Per resource, the highest load over the slots with the plan."
    )
    peak_utilisation_before: dict[str, float | None] = Field(
        description="Per resource, the highest load / capacity before (null: no capacity)."
    )
    peak_utilisation_after: dict[str, float | None] = Field(
        description="Per resource, the highest load / capacity with the plan."
    )
    overloaded_slots_before: int = Field(
        description="(resource, slot) pairs over capacity with everyone at the preferred slot."
    )
    overloaded_slots_after: int = Field(
        description="(resource, slot) pairs over capacity with the plan (background alone only)."
    )


class SlotsSolution(_Strict):
    """A plan: every request's slots, the KPIs and how it was found."""

    status: Status = Field(
        description="optimal (proved), feasible (solver out of time), fallback (greedy), "
        "failed (no plan)."
    )
    mode: Mode | Literal["greedy"] = Field(description="The method that produced the plan.")
    objective: float = Field(description="Weighted total shift of the plan.")
    best_bound: float | None = Field(
        description="Proved lower bound on the weighted shift of any plan leaving no more "
        "people unassigned than this one (equals objective when optimal; null when "
        "nothing is proved)."
    )
    unassigned_bound: int | None = Field(
        description="Proved lower bound on the people left unassigned (equals "
        "kpis.people_unassigned when that is proved minimal; null when nothing is proved)."
    )
    fallback: bool = Field(description="True when the greedy fallback produced the plan.")
    message: str = Field(description="What happened, in one sentence or two.")
    solve_ms: float = Field(description="Wall time of the whole solve, milliseconds.")
    stage_ms: dict[str, float] = Field(description="Wall time of each stage, milliseconds.")
    distinct_groups: int = Field(description="Groups the solver saw after merging identical ones.")
    kpis: SlotsKpis = Field(description="The plan against doing nothing.")
    assignments: list[GroupAssignment] = Field(description="One entry per named group.")
    people_classes: PeopleClasses = Field(
        description="Where the individual people go, by class of identical people."
    )
    people_slots: list[int] = Field(
        description="The slot of each individual person, in input order (-1: unassigned)."
    )
    load_before: dict[str, list[float]] = Field(
        description="Per resource, load per slot with everyone at the preferred slot."
    )
    load_after: dict[str, list[float]] = Field(
        description="Per resource, load per slot with the plan."
    )
