"""The live energy problem, built from the newest readings in the store.

Base load of a feeder = its head meter's activePower − the EV charging on it now that
is planned for (the head meter sees everything, EVs included, net of local solar; a
charger drawing without a session to plan keeps drawing, so it stays in the base load).
PV generation is added back so that base load and solar are planned separately: held flat over the horizon, or
shaped by a forecast when one is given.

Every hard limit comes from the inventory: a feeder's limit, a charger's highest power
and the feeder it hangs on. Readings give only what is happening now; a reading that
claims a limit of its own is named in the notes (`limit_claims`) and otherwise ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from optimiser.energy.model import EnergyProblem
from territory.inventory import Device, Inventory
from territory.limits import LimitClaim, limit_claims
from territory.readings import Reading
from territory.store import Store

PLUGGED = ("charging", "occupied")
MIN_FIRST_SLOT_SHARE = 1 / 15  # a vehicle leaving within the minute is planned as if for one
MAX_SESSION_KWH = 1e4  # the problem format's bound on a session's energy
# (feeder id, now, slots, slot seconds, base load now) -> base load per slot, kW
BaseLoadForecast = Callable[[str, float, int, float, float], np.ndarray]


@dataclass(frozen=True)
class LiveSettings:
    """How the live problem is cut: slot length, horizon and how old a reading may be."""

    slot_minutes: float = 15.0
    horizon_slots: int = 32
    max_age_s: float = 900.0
    # Re-solved every tick with vehicles still to come: charge as early as possible, so
    # that later headroom stays free for them (see EnergyProblem.objective).
    objective: Literal["cost", "headroom"] = "headroom"
    # Share of each feeder's limit left unplanned: base load moves and vehicles plug in
    # between ticks, and the plan would otherwise fill the feeder to its very limit.
    limit_margin: float = 0.03


@dataclass
class LiveEnergy:
    """The problem plus what the runner needs to address commands and explain itself."""

    problem: EnergyProblem
    charger_zone: dict[str, str]
    notes: list[str] = field(default_factory=list)
    # Readings that claim a limit other than the inventory's (the plan keeps to the inventory).
    claims: list[LimitClaim] = field(default_factory=list)
    # Chargers with no vehicle on a planned feeder: a vehicle plugging in before the next
    # tick draws at most what the plan leaves free (their set-point until then).
    idle_chargers: list[IdleCharger] = field(default_factory=list)


@dataclass(frozen=True)
class IdleCharger:
    """A charger with no vehicle plugged, as its newest reading shows it."""

    device_id: str
    zone: str
    feeder: str
    max_power_kw: float


def build_energy_problem(
    store: Store,
    now: float,
    inventory: Inventory,
    settings: LiveSettings | None = None,
    forecast: BaseLoadForecast | None = None,
) -> LiveEnergy | None:
    """None when there is no fresh reading of an inventory feeder to plan against."""
    settings = settings or LiveSettings()
    feeders = _known(_fresh(store.latest(kind="feeder"), now, settings.max_age_s), inventory)
    if not feeders:
        return None
    chargers = _known(_fresh(store.latest(kind="ev_charger"), now, settings.max_age_s), inventory)
    solar = _known(_fresh(store.latest(kind="pv"), now, settings.max_age_s), inventory)
    slots, slot_s = settings.horizon_slots, settings.slot_minutes * 60
    known = {feeder.device_id for feeder in feeders}
    sessions, zones, notes = _sessions(chargers, inventory, known, now, slots, slot_s)
    claims = limit_claims([*feeders, *chargers], inventory)
    notes.extend(claim.describe() for claim in claims)
    # Only the chargers we plan for are flexible: any other charger's draw stays in the
    # base load, since it gets no command and may keep drawing.
    planned = [c for c in chargers if c.device_id in zones]
    ev_now = _sum_by_feeder(planned, inventory, "powerConsumption")
    pv_now = _sum_by_feeder(solar, inventory, "activePower")
    feeder_specs = []
    for feeder in feeders:
        fid, spec = feeder.device_id, inventory.by_id[feeder.device_id]
        base_now = _number(feeder, "activePower") - ev_now.get(fid, 0.0) + pv_now.get(fid, 0.0)
        base = (
            forecast(fid, now, slots, slot_s, base_now)
            if forecast is not None
            else np.full(slots, base_now)
        )
        feeder_specs.append(
            {
                "id": fid,
                "zone": spec.zone,
                "limit_kw": float(spec.limit_kw or 0.0) * (1.0 - settings.limit_margin),
                "base_load_kw": [round(float(v), 4) for v in base],
                "pv_kw": round(pv_now.get(fid, 0.0), 4),
            }
        )
    problem = EnergyProblem.model_validate(
        {
            "slot_minutes": settings.slot_minutes,
            "horizon_slots": slots,
            "start": now,
            "feeders": feeder_specs,
            "sessions": sessions,
            "objective": settings.objective,
        }
    )
    idle = [
        IdleCharger(c.device_id, spec.zone, str(spec.feeder), float(spec.max_power_kw or 0.0))
        for c in chargers
        if c.fields.get("status") == "available"
        and (spec := inventory.by_id[c.device_id]).feeder in known
    ]
    return LiveEnergy(problem, zones, notes, claims, idle)


def _sessions(
    chargers: list[Reading],
    inventory: Inventory,
    feeders: set[str],
    now: float,
    slots: int,
    slot_s: float,
) -> tuple[list[dict[str, object]], dict[str, str], list[str]]:
    """One session per plugged charger still wanting energy; its departure rounded down to
    a slot (at least the first, so a vehicle about to leave still gets its set-point).

    A vehicle leaving within the first slot charges only for the part of it left: the
    plan holds a slot's power as one set-point, so that vehicle asks for its energy
    divided by that share. The set-point is then the power that delivers its energy by
    its departure, not an average over a slot it will not see the end of."""
    sessions: list[dict[str, object]] = []
    zones: dict[str, str] = {}
    notes: list[str] = []
    for charger in chargers:
        fields, spec = charger.fields, inventory.by_id[charger.device_id]
        wanted, departure = fields.get("requestedEnergy"), fields.get("departure")
        if fields.get("status") not in PLUGGED or wanted is None or departure is None:
            continue
        if float(wanted) <= 0 or float(departure) <= now:
            continue
        if spec.feeder not in feeders:
            notes.append(f"charger {charger.device_id}: no fresh reading of feeder {spec.feeder}")
            continue
        stay_s = float(departure) - now
        leaves = min(max(math.floor(stay_s / slot_s), 1), slots)
        share = min(max(stay_s / slot_s, MIN_FIRST_SLOT_SHARE), 1.0)
        sessions.append(
            {
                "id": charger.device_id,
                "feeder": spec.feeder,
                "zone": spec.zone,
                "arrival_slot": 0,
                "departure_slot": leaves,
                "energy_kwh": min(float(wanted) / share, MAX_SESSION_KWH),
                "max_power_kw": float(spec.max_power_kw or 0.0),
            }
        )
        zones[charger.device_id] = spec.zone
    return sessions, zones, notes


def _known(readings: list[Reading], inventory: Inventory) -> list[Reading]:
    """The readings of devices the inventory lists under that kind: nothing else is planned."""
    found = []
    for reading in readings:
        spec: Device | None = inventory.device(reading.device_id)
        if spec is not None and spec.kind == reading.kind:
            found.append(reading)
    return found


def _fresh(readings: list[Reading], now: float, max_age_s: float) -> list[Reading]:
    return [r for r in readings if now - r.ts <= max_age_s]


def _sum_by_feeder(
    readings: list[Reading], inventory: Inventory, attribute: str
) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in readings:
        feeder = inventory.by_id[r.device_id].feeder
        if feeder is not None:
            totals[feeder] = totals.get(feeder, 0.0) + _number(r, attribute)
    return totals


def _number(reading: Reading, attribute: str) -> float:
    value = reading.fields.get(attribute, 0.0)
    return float(value) if isinstance(value, int | float) else 0.0
