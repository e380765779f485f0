"""People and vehicles on the move: commuting corridors, traffic, transit, and the air.

A corridor's commuters are counted per time slot. Its demand per slot follows the
commute shape; commuters assigned to another slot move there (those who comply), and
whatever a slot carries above the corridor's capacity is scored. Transit counters on a
corridor report its boardings; traffic counters follow the commute, and the corridor
they watch if any; air stations follow their zone's traffic.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

from devices import profiles
from devices.device import Device
from devices.kpis import Kpis
from devices.mobility import poisson
from devices.scenario import Corridor


@dataclass(slots=True)
class CorridorState:
    spec: Corridor
    slot_s: float
    counters: int = 0
    slot_start: float = -1.0
    load: int = 0
    expected: float = 1.0
    shifts: dict[float, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def ratio(self) -> float:
        """Load of the current slot against what the commute shape alone would give."""
        return self.load / self.expected if self.expected > 0 else 1.0


@dataclass(slots=True, kw_only=True)
class TrafficState(Device):
    peak_vph: float
    free_speed_kmh: float
    corridor: CorridorState | None
    intensity: int = 0
    occupancy: float = 0.0
    speed_kmh: float = 0.0


@dataclass(slots=True, kw_only=True)
class TransitState(Device):
    corridor: CorridorState
    boardings: int = 0


@dataclass(slots=True, kw_only=True)
class AirState(Device):
    background_pm25: float
    noise: float = 0.0
    pm25: float = 0.0
    pm10: float = 0.0
    no2: float = 0.0


_COMMUTE_PEAK = max(profiles.commute(h / 4.0) for h in range(96))


@dataclass(frozen=True, slots=True)
class SlotLoad:
    """One upcoming slot of a corridor as its booking system sees it."""

    corridor: str
    start: float  # simulated time
    requested: int  # commuters who asked for this slot
    planned: int  # after the moves obeyed so far
    capacity: int


class Flows:
    """Corridors and the traffic, transit and air devices that watch them."""

    def __init__(self, corridors: list[Corridor], utc_offset_h: float, seed: int = 0) -> None:
        self.corridors = {c.id: CorridorState(c, 60.0 * c.slot_minutes) for c in corridors}
        self.offset_s = 3600.0 * utc_offset_h
        self.seed = seed
        self.zone_traffic: dict[str, float] = defaultdict(float)
        self._zone_samples: dict[str, dict[str, float]] = defaultdict(dict)
        self._requests: dict[tuple[str, float], int] = {}
        self.shifted = 0

    def step(self, t: float, kpis: Kpis) -> None:
        """Close finished slots (scoring them) and open the current one."""
        for corridor in self.corridors.values():
            start = self.slot_start(t, corridor.slot_s)
            if start == corridor.slot_start:
                continue
            if corridor.slot_start >= 0:
                excess = corridor.load - corridor.spec.capacity_per_slot
                kpis.corridor_load_above_capacity += max(0, excess)
                self._requests.pop((corridor.spec.id, corridor.slot_start), None)
            corridor.slot_start = start
            corridor.expected = self._expected(corridor, start)
            corridor.load = max(0, self.requested(corridor, start) + corridor.shifts.pop(start, 0))

    def _expected(self, corridor: CorridorState, start: float) -> float:
        hour = ((start + self.offset_s + corridor.slot_s / 2) % 86400.0) / 3600.0
        return corridor.spec.daily_trips * profiles.commute(hour) * corridor.slot_s / 86400.0

    def requested(self, corridor: CorridorState, start: float) -> int:
        """Commuters asking for the slot starting at `start`: drawn from a stream of its own,
        so the answer does not depend on when, or whether, anyone asked before."""
        key = (corridor.spec.id, start)
        found = self._requests.get(key)
        if found is None:
            rng = random.Random(f"{self.seed}:slot:{corridor.spec.id}:{start:.0f}")
            found = self._requests[key] = poisson(self._expected(corridor, start), rng)
        return found

    def outlook(self, t: float, horizon_s: float) -> list[SlotLoad]:
        """The current and coming slots of every corridor up to t + horizon_s."""
        found = []
        for corridor in self.corridors.values():
            start = self.slot_start(t, corridor.slot_s)
            while start < t + horizon_s:
                requested = self.requested(corridor, start)
                planned = self._planned(corridor, start)
                capacity = corridor.spec.capacity_per_slot
                found.append(SlotLoad(corridor.spec.id, start, requested, planned, capacity))
                start += corridor.slot_s
        return found

    def _planned(self, corridor: CorridorState, start: float) -> int:
        """Commuters who will travel in the slot, moves obeyed so far included."""
        if start == corridor.slot_start:
            return corridor.load
        return max(0, self.requested(corridor, start) + corridor.shifts.get(start, 0))

    def slot_start(self, t: float, slot_s: float) -> float:
        """Start of the slot holding t; slots are aligned on local midnight."""
        return math.floor((t + self.offset_s) / slot_s) * slot_s - self.offset_s

    def shift(
        self, corridor_id: str, from_start: float, to_start: float, count: int, rng: random.Random
    ) -> int:
        """Move commuters between two slots; only the compliant share moves."""
        corridor = self.corridors[corridor_id]
        start_from = self.slot_start(from_start, corridor.slot_s)
        start_to = self.slot_start(to_start, corridor.slot_s)
        if start_from < corridor.slot_start or start_to < corridor.slot_start:
            return 0  # the past cannot be rearranged
        asked = min(max(0, count), self._planned(corridor, start_from))
        moved = sum(1 for _ in range(asked) if rng.random() < corridor.spec.compliance)
        for start, delta in ((start_from, -moved), (start_to, moved)):
            if start == corridor.slot_start:
                corridor.load = max(0, corridor.load + delta)
            else:
                corridor.shifts[start] += delta
        self.shifted += moved
        return moved

    def sample_traffic(self, counter: TrafficState, hour: float, rng: random.Random) -> None:
        demand = profiles.commute(hour) / _COMMUTE_PEAK
        if counter.corridor is not None:
            demand *= 0.5 + 0.5 * counter.corridor.ratio
        vph = counter.peak_vph * demand * math.exp(rng.gauss(0.0, 0.08))
        counter.intensity = poisson(vph * counter.period / 3600.0, rng)
        ratio = min(1.2, vph / (1.1 * counter.peak_vph))
        counter.occupancy = round(min(0.95, 0.03 + 0.6 * ratio**1.5), 3)
        counter.speed_kmh = round(max(5.0, counter.free_speed_kmh * (1.0 - 0.7 * ratio**2)), 1)
        samples = self._zone_samples[counter.zone]
        samples[counter.device_id] = ratio
        self.zone_traffic[counter.zone] = sum(samples.values()) / len(samples)

    def sample_transit(self, counter: TransitState, rng: random.Random) -> None:
        corridor = counter.corridor
        share = counter.period / corridor.slot_s / max(1, corridor.counters)
        counter.boardings = poisson(corridor.load * share, rng)

    def sample_air(self, station: AirState, hour: float, rng: random.Random) -> None:
        traffic = self.zone_traffic.get(station.zone)
        if traffic is None:
            traffic = profiles.commute(hour) / _COMMUTE_PEAK
        station.noise = 0.9 * station.noise + 0.45 * rng.gauss(0.0, 1.0)
        wobble = max(0.3, 1.0 + 0.15 * station.noise)
        station.pm25 = round((station.background_pm25 + 10.0 * traffic) * wobble, 2)
        station.pm10 = round(station.pm25 * 1.5 + 3.0 * wobble, 2)
        station.no2 = round((10.0 + 45.0 * traffic) * wobble, 2)
