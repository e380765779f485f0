"""A reference policy: simple rules that act on observations only.

It is the yardstick a compare run uses when no optimiser is plugged in, and a
check that the closed loop works end to end: throttle EV charging to keep feeders
under their limit (least slack first, so every vehicle still gets its energy), send
idle vans from the fullest to the emptiest stations ahead of the commute, and move
commuters out of slots above a corridor's capacity to the nearest slots with room.

A policy is any callable `Observation -> list[Command]`; a policy *factory* takes the
scenario and returns one (`--policy module:factory`).
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Sequence

from devices.commands import ChargerSetpoint, Command, SlotShift, VanRoute, VanStop
from devices.observe import Observation
from devices.scenario import Scenario
from territory.readings import Reading

Policy = Callable[[Observation], Sequence[Command]]
PolicyFactory = Callable[[Scenario], Policy]

HEADROOM = 0.93  # plan feeders to this share of their limit: readings are noisy and late
SETPOINT_LIFE_S = 180.0
MIN_VAN_LOAD = 3
FLEX_SLOTS = 3  # commuters are moved at most this many slots away


def reference(scenario: Scenario) -> Policy:
    def policy(observation: Observation) -> list[Command]:
        return [
            *charger_setpoints(observation),
            *van_routes(observation),
            *slot_moves(observation),
        ]

    return policy


# -- energy ------------------------------------------------------------------------------


def charger_setpoints(observation: Observation) -> list[Command]:
    """Set-points for the chargers of feeders that uncontrolled charging would overload."""
    chargers: dict[str, list[Reading]] = defaultdict(list)
    for reading in observation.of_kind("ev_charger"):
        chargers[str(reading.fields["feeder"])].append(reading)
    commands: list[Command] = []
    for head in observation.of_kind("feeder"):
        on_feeder = chargers.get(head.device_id, [])
        drawing = sum(float(r.fields["powerConsumption"]) for r in on_feeder)
        base = float(head.fields["activePower"]) - drawing
        headroom = HEADROOM * float(head.fields["powerLimit"]) - base
        allocation = _share(observation.now, on_feeder, headroom)
        for device_id, kw in allocation.items():
            commands.append(
                ChargerSetpoint(
                    device_id=device_id,
                    ts=observation.now,
                    setpoint=round(kw, 3),
                    valid_until=observation.now + SETPOINT_LIFE_S,
                    plan="reference",
                )
            )
    return commands


def _share(now: float, chargers: list[Reading], headroom: float) -> dict[str, float]:
    """Power per charger: every session gets at least the rate that finishes it by its
    departure (energy comes first, even over the limit), then what headroom is left goes
    to the least slack first. Empty when charging flat out would fit anyway."""
    sessions = [r for r in chargers if float(r.fields.get("requestedEnergy", 0.0)) > 0]
    if sum(float(r.fields["maxPower"]) for r in sessions) <= headroom:
        return {}
    allocation, slack = {}, {}
    for r in sessions:
        hours = max(1 / 60, (float(r.fields["departure"]) - now) / 3600.0)
        energy, top = float(r.fields["requestedEnergy"]), float(r.fields["maxPower"])
        allocation[r.device_id] = min(top, 1.1 * energy / hours)
        slack[r.device_id] = hours - energy / top
    left = headroom - sum(allocation.values())
    for r in sorted(sessions, key=lambda r: slack[r.device_id]):
        extra = max(0.0, min(float(r.fields["maxPower"]) - allocation[r.device_id], left))
        allocation[r.device_id] += extra
        left -= extra
    return allocation


# -- mobility ----------------------------------------------------------------------------


def target_fill(profile: str, hour: float) -> float:
    """Share of docks that should hold a bike an hour from now."""
    ahead = (hour + 1.0) % 24.0
    morning, evening = 5.0 <= ahead < 9.5, 15.0 <= ahead < 19.5
    if profile == "residential":
        return 0.8 if morning else 0.3 if evening else 0.5
    if profile == "commercial":
        return 0.25 if morning else 0.8 if evening else 0.5
    return 0.5


def van_routes(observation: Observation) -> list[Command]:
    """Each idle van: from the station with the most surplus to the one with the most lack."""
    scenario = observation.scenario
    hour = ((observation.now / 3600.0) + scenario.utc_offset_h) % 24.0
    profiles = {z.id: z.profile for z in scenario.zones}
    surplus = {}
    for r in observation.of_kind("bike_station"):
        slots = int(r.fields["totalSlotNumber"])
        target = target_fill(profiles.get(r.zone, "mixed"), hour) * slots
        surplus[r.device_id] = int(r.fields["availableBikeNumber"]) - round(target)
    commands: list[Command] = []
    for van in observation.vans:
        if van.busy or len(surplus) < 2:
            continue
        donor = max(surplus, key=surplus.__getitem__)
        receiver = min(surplus, key=surplus.__getitem__)
        load = min(surplus[donor], -surplus[receiver], van.capacity - van.carried)
        if load < MIN_VAN_LOAD:
            break
        stops = [VanStop(station=donor, load=load), VanStop(station=receiver, load=-load)]
        commands.append(
            VanRoute(van_id=van.van_id, ts=observation.now, plan="reference", stops=stops)
        )
        surplus[donor] -= load
        surplus[receiver] += load
    return commands


# -- time slots --------------------------------------------------------------------------


def slot_moves(observation: Observation) -> list[Command]:
    """Move the excess of each coming overloaded slot to the nearest slots with room."""
    by_corridor = defaultdict(list)
    for slot in observation.slots:
        by_corridor[slot.corridor].append(slot)
    commands: list[Command] = []
    for corridor, slots in by_corridor.items():
        slots.sort(key=lambda s: s.start)
        planned = [s.planned for s in slots]
        for i, slot in enumerate(slots):
            if i == 0 or planned[i] <= slot.capacity:
                continue  # the current slot has already started
            for j in _nearest(i, len(slots)):
                excess = planned[i] - slot.capacity
                room = slots[j].capacity - planned[j]
                moved = min(excess, room)
                if moved <= 0:
                    continue
                commands.append(
                    SlotShift(
                        corridor=corridor, from_slot=slot.start, to_slot=slots[j].start, count=moved
                    )
                )
                planned[i] -= moved
                planned[j] += moved
    return commands


def _nearest(i: int, count: int) -> list[int]:
    """Slot indices within FLEX_SLOTS of i, nearest first, later before earlier; never 0."""
    found = []
    for distance in range(1, FLEX_SLOTS + 1):
        for j in (i + distance, i - distance):
            if 0 < j < count:
                found.append(j)
    return found


def load_policy(spec: str) -> PolicyFactory:
    """`module:factory` → the factory (a callable taking the scenario, returning a policy)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"policy must look like module:factory, not {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"policy {spec!r} cannot be loaded: {exc}") from exc
    if not callable(factory):
        raise ValueError(f"policy {spec!r} is not callable")
    return factory
