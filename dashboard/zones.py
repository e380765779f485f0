"""Each zone's headline figures, derived from the newest readings and the open alerts.

Bikes available against docks, feeder load against limit, corridor passengers against
capacity, air quality; and the zone's state: the worst severity among its open alerts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from dashboard.corridors import corridor_loads
from dashboard.live import Changes, FeedState, TickHook
from dashboard.territory_map import TerritoryMap

SEVERITY_RANK = {"ok": 0, "warning": 1, "critical": 2}

# PM2.5 (µg/m³) upper bounds of the European Air Quality Index bands.
AIR_BANDS = ((10, "good"), (20, "fair"), (25, "moderate"), (50, "poor"), (75, "very poor"))


def air_band(pm25: float) -> str:
    return next((name for bound, name in AIR_BANDS if pm25 <= bound), "extremely poor")


def _number(fields: dict[str, Any], name: str) -> float:
    value = fields.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def zone_figures(state: FeedState, territory: TerritoryMap) -> dict[str, dict[str, Any]]:
    """Zone id -> its headline figures."""
    figures: dict[str, dict[str, Any]] = defaultdict(dict)
    for reading in state.readings.values():
        zone, fields = reading["zone"], reading["fields"]
        into = figures[zone]
        into.setdefault("devices", 0)
        into["devices"] += 1
        kind = reading["kind"]
        if kind == "bike_station":
            _add(into, "bikes_available", _number(fields, "availableBikeNumber"))
            _add(into, "bikes_capacity", _number(fields, "totalSlotNumber"))
        elif kind == "feeder":
            _add(into, "feeder_load_kw", _number(fields, "activePower"))
            _add(into, "feeder_limit_kw", _number(fields, "powerLimit"))
        elif kind == "air":
            into["pm25"] = max(float(into.get("pm25", 0.0)), _number(fields, "pm25"))
    _add_corridors(figures, state, territory)
    for into in figures.values():
        if "pm25" in into:
            into["air"] = air_band(float(into["pm25"]))
    return figures


def _add_corridors(
    figures: dict[str, dict[str, Any]], state: FeedState, territory: TerritoryMap
) -> None:
    """Each zone shows the most loaded corridor serving it (by share of capacity)."""
    for load in corridor_loads(state, territory):
        spec = territory.corridors.get(load.corridor)
        for zone in spec.zones if spec else (load.zone,):
            if zone is None:
                continue
            into = figures[zone]
            share = load.per_slot / load.capacity if load.capacity else 0.0
            if "corridor" not in into or share > into["corridor_share"]:
                into.update(
                    corridor=load.corridor,
                    corridor_load=load.per_slot,
                    corridor_capacity=load.capacity,
                    corridor_share=round(share, 3),
                )


def _add(into: dict[str, Any], name: str, value: float) -> None:
    into[name] = round(float(into.get(name, 0.0)) + value, 3)


def zone_states(state: FeedState) -> dict[str, str]:
    """Zone id -> the worst severity among its open alerts (ok without any)."""
    worst: dict[str, str] = {}
    for alert in state.alerts.values():
        zone, severity = alert.get("zone"), str(alert.get("severity", "warning"))
        if isinstance(zone, str) and SEVERITY_RANK.get(severity, 1) > SEVERITY_RANK.get(
            worst.get(zone, "ok"), 0
        ):
            worst[zone] = severity
    return worst


def zone_summary_hook(territory: TerritoryMap) -> TickHook:
    """A feed hook that keeps the `zones` section current (only changed zones are sent)."""

    def hook(state: FeedState, now: float) -> Changes:
        figures = zone_figures(state, territory)
        states = zone_states(state)
        changed: dict[str, dict[str, Any]] = {}
        for zone in sorted(set(figures) | set(state.zones)):
            summary = {"id": zone, **figures.get(zone, {}), "state": states.get(zone, "ok")}
            if state.zones.get(zone) != summary:
                changed[zone] = summary
        return {"zones": changed}

    return hook
