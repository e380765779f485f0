"""Time slots on the timer: corridor demand forecast from transit counters, spread over
the coming slots within capacity.

Demand of a corridor per slot = the sum over its transit counters of their boarding
rate (mean boardings per reading / reporting period) times the slot length. The coming
slots are forecast by `optimiser.forecast.profile_forecast`: the profile of that hour
of the week (or, before a week of history exists, of that hour of the day) shifted by
how far the current slot is from its profile, the shift fading with a half-life; with no
profile at all the forecast is the current level (persistence).

The commuters a slot is forecast to hold prefer it and accept any slot within
± `window_slots`; capacity per slot comes from the scenario. The twin and real booking
systems apply slot moves as increments, so the plan's `moves` are only what was not
published before for the same (corridor, from, to); `moves_planned` is the whole plan.
The slot under way is left alone: its commuters are already travelling.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimiser.forecast import HOUR_S, Series, profile_forecast
from optimiser.runner import Outcome, Tick
from optimiser.slots.model import SlotsProblem, SlotsSolution
from territory.inventory import Corridor, Inventory
from territory.store import Store

log = logging.getLogger(__name__)
METHOD = (
    "boarding rate per slot; hour-of-week profile (hour-of-day before a week of history) "
    "blended with the current slot's level, half-life {half_life_h:g} h"
)


@dataclass(frozen=True)
class SlotsLiveSettings:
    """How far ahead, how flexible, and how much history the forecast uses."""

    horizon_slots: int = 16
    window_slots: int = 2
    history_days: float = 14.0
    half_life_s: float = 2 * HOUR_S
    max_age_s: float = 900.0
    default_period_s: float = 60.0


@dataclass
class CorridorPlan:
    """One corridor's forecast over the coming slots."""

    corridor: Corridor
    slot_s: float
    starts: list[float]  # epoch seconds of each slot of the horizon
    demand: list[int]  # commuters forecast per slot


@dataclass
class LiveSlots:
    corridors: list[CorridorPlan]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Counter:
    """One transit counter's boardings, binned per slot, read incrementally."""

    corridor: str
    series: Series
    read_to_ns: int
    last_ts: float | None = None
    period_s: float | None = None


class SlotsDomain:
    """Corridor demand spread over slots so that no slot exceeds the corridor's capacity."""

    name = "slots"

    def __init__(self, inventory: Inventory, settings: SlotsLiveSettings | None = None) -> None:
        self.inventory = inventory
        self.settings = settings or SlotsLiveSettings()
        self._counters: dict[str, _Counter] = {}
        self._published: dict[tuple[str, float, float], int] = {}

    def build(self, store: Store, now: float) -> LiveSlots | None:
        corridors = {c.id: c for c in self.inventory.corridors}
        fresh: set[str] = set()
        notes: list[str] = []
        for reading in store.latest(kind="transit_counter"):
            # The corridor a counter watches is the inventory's, whatever the reading says.
            spec = self.inventory.device(reading.device_id)
            corridor = spec.corridor if spec is not None else None
            if corridor not in corridors:
                notes.append(
                    f"counter {reading.device_id}: corridor {corridor!r} not in the inventory"
                )
                continue
            slot_s = 60.0 * corridors[str(corridor)].slot_minutes
            self._read(store, reading.device_id, str(corridor), slot_s, now)
            if now - reading.ts <= self.settings.max_age_s:
                fresh.add(str(corridor))
        plans = [self._forecast(corridors[c], now) for c in sorted(fresh)]
        if not plans:
            return None
        return LiveSlots(plans, notes)

    def solve(self, problem: LiveSlots, tick: Tick) -> Outcome:
        from optimiser.slots import solve

        moves: list[dict[str, Any]] = []
        kpis: dict[str, Any] = defaultdict(dict)
        loads: dict[str, dict[str, list[float]]] = defaultdict(dict)
        statuses: list[str] = []
        solve_ms, fallback = 0.0, False
        for position, plan in enumerate(problem.corridors):
            share = max(tick.deadline_s / (len(problem.corridors) - position), 0.05)
            solution = solve(self._problem(plan), share)
            statuses.append(solution.status)
            solve_ms += solution.solve_ms
            fallback |= solution.fallback
            moves += _moves(plan, solution)
            after = _after_load(plan, solution)
            _merge_kpis(kpis, plan, solution, after)
            loads["after"][plan.corridor.id] = [round(float(v), 3) for v in after]
        fresh = self._increments(moves, tick.now)
        body: dict[str, Any] = {
            "kpis": dict(kpis),
            "solve_ms": round(solve_ms, 3),
            "fallback": fallback,
            "moves": fresh,
            "moves_planned": moves,
            "corridors": {
                p.corridor.id: {
                    "capacity": p.corridor.capacity_per_slot,
                    "slot_starts": p.starts,
                    "demand": p.demand,
                    "load_after": loads["after"][p.corridor.id],
                }
                for p in problem.corridors
            },
            "window_slots": self.settings.window_slots,
            "forecast": METHOD.format(half_life_h=self.settings.half_life_s / HOUR_S),
            "notes": problem.notes,
        }
        return Outcome(status=_worst(statuses), body=body)

    # -- building ----------------------------------------------------------------------

    def _read(self, store: Store, device: str, corridor: str, slot_s: float, now: float) -> None:
        history_s = self.settings.history_days * 86400.0
        counter = self._counters.get(device)
        if counter is None or counter.series.bin_s != slot_s:
            start = int((now - history_s) * 1e9)
            counter = self._counters[device] = _Counter(corridor, Series(slot_s), start)
        end = int(now * 1e9) + 1
        gaps = []
        for r in store.history(device, counter.read_to_ns, end):
            boardings = r.fields.get("boardings")
            if isinstance(boardings, int | float):
                counter.series.add(r.ts, float(boardings))
                if counter.last_ts is not None and r.ts > counter.last_ts:
                    gaps.append(r.ts - counter.last_ts)
                counter.last_ts = r.ts
        if gaps:
            counter.period_s = statistics.median(gaps)
        counter.read_to_ns = end
        counter.series.trim(now - history_s)

    def _forecast(self, corridor: Corridor, now: float) -> CorridorPlan:
        """Commuters per coming slot, from the boarding rates of the corridor's counters."""
        slot_s = 60.0 * corridor.slot_minutes
        offset = 3600.0 * self.inventory.utc_offset_h
        current = math.floor((now + offset) / slot_s) * slot_s - offset
        rates: dict[int, float] = defaultdict(float)  # commuters per slot, by bin
        for counter in self._counters.values():
            if counter.corridor != corridor.id:
                continue
            period = counter.period_s or self.settings.default_period_s
            for b, mean in counter.series.means().items():
                rates[b] += mean / period * slot_s
        now_bin = int(current // slot_s)
        level = rates.get(now_bin, rates.get(now_bin - 1, 0.0))
        history = {b: v for b, v in rates.items() if b != now_bin}  # a slot still filling
        first = current + slot_s
        values = profile_forecast(
            history,
            slot_s,
            level,
            first,
            self.settings.horizon_slots,
            self.settings.half_life_s,
        )
        starts = [first + k * slot_s for k in range(self.settings.horizon_slots)]
        return CorridorPlan(corridor, slot_s, starts, [round(float(v)) for v in values])

    def _problem(self, plan: CorridorPlan) -> SlotsProblem:
        slots, window = len(plan.starts), self.settings.window_slots
        groups = [
            {
                "id": f"{plan.corridor.id}@{t}",
                "size": size,
                "resources": [plan.corridor.id],
                "preferred": t,
                "earliest": max(0, t - window),
                "latest": min(slots - 1, t + window),
            }
            for t, size in enumerate(plan.demand)
            if size > 0
        ]
        resource: dict[str, Any] = {"id": plan.corridor.id, "kind": "corridor"}
        resource["capacity"] = plan.corridor.capacity_per_slot
        return SlotsProblem.model_validate(
            {
                "slots": slots,
                "slot_minutes": plan.corridor.slot_minutes,
                "resources": [resource],
                "groups": groups,
            }
        )

    def _increments(self, moves: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
        """What was not asked before; forgets moves out of slots already begun."""
        self._published = {k: v for k, v in self._published.items() if k[1] > now}
        fresh = []
        for move in moves:
            key = (move["corridor"], move["from_slot"], move["to_slot"])
            extra = move["count"] - self._published.get(key, 0)
            if extra > 0:
                fresh.append({**move, "count": extra})
                self._published[key] = move["count"]
        return fresh


def _moves(plan: CorridorPlan, solution: SlotsSolution) -> list[dict[str, Any]]:
    moves = []
    for group in solution.assignments:
        for slot, count in sorted(group.slots.items()):
            if int(slot) != group.preferred and count > 0:
                moves.append(
                    {
                        "corridor": plan.corridor.id,
                        "from_slot": plan.starts[group.preferred],
                        "to_slot": plan.starts[int(slot)],
                        "count": int(count),
                    }
                )
    return moves


def _after_load(plan: CorridorPlan, solution: SlotsSolution) -> np.ndarray:
    """Load per slot with the plan: commuters the capacity cannot hold stay in their slot."""
    return np.asarray(solution.load_after[plan.corridor.id]) + _unassigned_per_slot(plan, solution)


def _merge_kpis(
    kpis: dict[str, Any], plan: CorridorPlan, solution: SlotsSolution, after: np.ndarray
) -> None:
    cid, k = plan.corridor.id, solution.kpis
    kpis["peak_load_before"][cid] = k.peak_load_before[cid]
    kpis["peak_load_after"][cid] = float(after.max()) if len(after) else 0.0
    kpis["capacity"][cid] = plan.corridor.capacity_per_slot
    for name in ("people", "people_shifted", "people_unassigned", "total_shift_slots"):
        kpis[name] = kpis.get(name, 0) + getattr(k, name)
    cap = plan.corridor.capacity_per_slot
    before = np.asarray(plan.demand, dtype=float)
    kpis["excess_before"] = kpis.get("excess_before", 0.0) + float(
        np.maximum(before - cap, 0).sum()
    )
    kpis["excess_after"] = kpis.get("excess_after", 0.0) + float(np.maximum(after - cap, 0).sum())


def _unassigned_per_slot(plan: CorridorPlan, solution: SlotsSolution) -> np.ndarray:
    left = np.zeros(len(plan.starts))
    for group in solution.assignments:
        left[group.preferred] += group.unassigned
    return left


def _worst(statuses: list[str]) -> str:
    order = ("failed", "fallback", "feasible", "optimal")
    return min(statuses, key=order.index) if statuses else "optimal"
