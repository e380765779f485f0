"""Mobility on the timer: idle vans routed to cut the expected unmet demand at stations.

Stations are the inventory's, with their positions; their state comes from the newest
`bike_station` readings (capacity = usable docks, i.e. available bikes + free docks,
never more than the inventory's capacity). Forecast of pickups
and returns per interval: successive readings of a station give its changes (a drop is
pickups, a rise returns; a jump of more than `max_rider_jump` bikes between two readings
is a van, not riders, and is left out); the coming intervals follow the hour-of-week
(else hour-of-day) profile of those counts blended with the last hour's rate, as the
slots forecast does (`optimiser.forecast.profile_forecast`).

Vans are the inventory's, with its capacity; position and load come from the newest
`van` readings (the station, or depot zone, they report), or from the inventory's vans at their depot when none ever reported. Only idle
vans are planned: a route replaces what a van is doing. A van commanded this run is
idle again for planning once a reading newer than the command says so (or, without
readings, once its planned route is over).

Commands never break a capacity known from the readings: along each route the van's
load stays within [0, capacity] from what it reports carrying, and over all routes a
station gives at most the bikes it has now and takes at most the free docks it has now.
KPIs are the fluid model's expected unmet trips with and without the commanded routes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from optimiser.forecast import HOUR_S, profile_forecast
from optimiser.mobility.model import DynamicPlan, DynamicProblem
from optimiser.runner import Command, Outcome, Tick
from territory import topics
from territory.inventory import Inventory
from territory.readings import Reading
from territory.store import Store


@dataclass(frozen=True)
class MobilityLiveSettings:
    """Forecast intervals, how long a van's plan may keep it busy, and data freshness."""

    interval_s: float = 900.0
    horizon_intervals: int = 8
    van_time_s: float = 3600.0
    history_days: float = 14.0
    recent_s: float = HOUR_S
    half_life_s: float = 2 * HOUR_S
    max_age_s: float = 900.0
    max_rider_jump: int = 3
    handling_s: float = 0.0  # the twin books a fixed time per stop
    driving_weight: float = 2.0


@dataclass
class _StationHistory:
    """Pickups and returns per interval, read incrementally from the store."""

    read_to_ns: int
    last_bikes: int | None = None
    pickups: dict[int, float] = field(default_factory=dict)
    returns: dict[int, float] = field(default_factory=dict)
    recent: deque[tuple[float, int, int]] = field(default_factory=deque)


@dataclass
class LiveMobility:
    problem: DynamicProblem
    zones: dict[str, str]  # van id -> command topic zone
    stations: dict[str, Reading]  # the readings the problem was built from
    notes: list[str] = field(default_factory=list)


class MobilityDomain:
    """Van routes from the live station state and forecast."""

    name = "mobility"

    def __init__(self, inventory: Inventory, settings: MobilityLiveSettings | None = None) -> None:
        self.inventory = inventory
        self.settings = settings or MobilityLiveSettings()
        self._history: dict[str, _StationHistory] = {}
        self._commanded: dict[str, tuple[float, float]] = {}  # van -> (at, busy until)

    def build(self, store: Store, now: float) -> LiveMobility | None:
        places = self._places()
        notes: list[str] = []
        stations, readings = [], {}
        for reading in store.latest(kind="bike_station"):
            self._read(store, reading.device_id, now)
            if now - reading.ts > self.settings.max_age_s:
                continue
            if reading.device_id not in places:
                notes.append(f"station {reading.device_id}: not in the inventory, not planned")
                continue
            station = self._station(reading, places[reading.device_id], now, notes)
            if station is not None:
                stations.append(station)
                readings[reading.device_id] = reading
        vans, zones = self._vans(store, now, places, notes)
        if not stations or not vans:
            return None
        specs = self.inventory.vans
        problem = DynamicProblem.model_validate(
            {
                "interval_s": self.settings.interval_s,
                "speed_kmh": min((v.speed_kmh for v in specs), default=25.0),
                "stop_s": 60.0 * max((v.stop_minutes for v in specs), default=3.0),
                "handling_s": self.settings.handling_s,
                "driving_weight": self.settings.driving_weight,
                "stations": stations,
                "vans": vans,
            }
        )
        return LiveMobility(problem, zones, readings, notes)

    def solve(self, problem: LiveMobility, tick: Tick) -> Outcome:
        from optimiser.mobility import plan_dynamic

        plan = plan_dynamic(problem.problem, tick.deadline_s)
        routes, clamped = safe_routes(problem, plan)
        kpis = self._kpis(problem, routes, plan)
        commands = []
        busy = {r.van: r.busy_s for r in plan.routes}
        for van, stops in routes.items():
            if not stops:
                continue
            self._commanded[van] = (tick.now, tick.now + busy.get(van, 0.0))
            commands.append(
                Command(
                    topics.command(problem.zones[van], "van", van),
                    {"ts": round(tick.now, 3), "plan": tick.plan_id, "stops": stops},
                )
            )
        body: dict[str, Any] = {
            "kpis": kpis,
            "solve_ms": plan.solve_ms,
            "fallback": plan.fallback,
            "routes": [{"van": van, "stops": stops} for van, stops in routes.items() if stops],
            "planned": plan.model_dump(include={"routes", "objective", "best_bound"}),
            "clamped_vehicles": clamped,
            "forecast": "pickups and returns from station changes; hour-of-week profile "
            "blended with the last hour's rate",
            "notes": problem.notes,
        }
        return Outcome(status=plan.status, body=body, commands=commands)

    # -- stations ----------------------------------------------------------------------

    def _places(self) -> dict[str, tuple[float, float]]:
        """Coordinates of stations (by device id) and of zones (a depot is its zone)."""
        places = {z.id: (z.x, z.y) for z in self.inventory.zones}
        for station in self.inventory.of_kind("bike_station"):
            zone = self.inventory.zone(station.zone)
            x = station.x if station.x is not None else zone.x if zone else 0.0
            y = station.y if station.y is not None else zone.y if zone else 0.0
            places[station.id] = (x, y)
        return places

    def _read(self, store: Store, device: str, now: float) -> None:
        s = self.settings
        history = self._history.get(device)
        if history is None:
            start = int((now - s.history_days * 86400.0) * 1e9)
            history = self._history[device] = _StationHistory(start)
        end = int(now * 1e9) + 1
        for r in store.history(device, history.read_to_ns, end):
            bikes = r.fields.get("availableBikeNumber")
            if not isinstance(bikes, int):
                continue
            if history.last_bikes is not None:
                change = bikes - history.last_bikes
                if 0 < abs(change) <= s.max_rider_jump:
                    b = int(r.ts // s.interval_s)
                    taken, given = max(0, -change), max(0, change)
                    history.pickups[b] = history.pickups.get(b, 0.0) + taken
                    history.returns[b] = history.returns.get(b, 0.0) + given
                    history.recent.append((r.ts, taken, given))
            history.last_bikes = bikes
        history.read_to_ns = end
        while history.recent and history.recent[0][0] < now - s.recent_s:
            history.recent.popleft()
        oldest = int((now - s.history_days * 86400.0) // s.interval_s)
        for series in (history.pickups, history.returns):
            for b in [b for b in series if b < oldest]:
                del series[b]

    def _station(
        self, reading: Reading, place: tuple[float, float], now: float, notes: list[str]
    ) -> dict[str, Any] | None:
        s, fields = self.settings, reading.fields
        bikes, free = fields.get("availableBikeNumber"), fields.get("freeSlotNumber")
        if not isinstance(bikes, int) or not isinstance(free, int) or bikes + free < 1:
            return None
        # Docks out of order shrink what a station can take, never grow it: the usable
        # docks a reading reports are capped by the inventory's capacity.
        capacity = self.inventory.by_id[reading.device_id].capacity or bikes + free
        if bikes + free > capacity:
            notes.append(
                f"station {reading.device_id}: reports {bikes + free} docks, "
                f"the inventory has {capacity}"
            )
            if bikes > capacity:
                return None
        history = self._history[reading.device_id]
        now_bin = int(now // s.interval_s)
        scale = s.interval_s / s.recent_s
        forecasts = []
        for column, series in ((1, history.pickups), (2, history.returns)):
            level = scale * sum(event[column] for event in history.recent)
            done = {b: v for b, v in series.items() if b != now_bin}
            values = profile_forecast(
                done, s.interval_s, level, now, s.horizon_intervals, s.half_life_s
            )
            forecasts.append([round(float(v), 4) for v in values])
        return {
            "id": reading.device_id,
            "x": place[0],
            "y": place[1],
            "capacity": min(bikes + free, capacity),
            "inventory": bikes,
            "pickups": forecasts[0],
            "returns": forecasts[1],
        }

    # -- vans ----------------------------------------------------------------------------

    def _vans(
        self, store: Store, now: float, places: dict[str, tuple[float, float]], notes: list[str]
    ) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Idle vans as the problem wants them, and each van's command zone."""
        specs = {v.id: v for v in self.inventory.vans}
        reported = {r.device_id: r for r in store.latest(kind="van")}
        vans, zones = [], {}
        if not reported:  # no tracker: the inventory's vans, at their depot until commanded
            for spec in specs.values():
                if now >= self._commanded.get(spec.id, (0.0, 0.0))[1]:
                    x, y = places[spec.zone]
                    vans.append(self._van(spec.id, x, y, spec.capacity, 0))
                    zones[spec.id] = spec.zone
            return vans, zones
        for van_id, r in reported.items():
            commanded_at = self._commanded.get(van_id, (-math.inf, 0.0))[0]
            if r.fields.get("status") != "idle" or r.ts <= commanded_at:
                continue
            if now - r.ts > self.settings.max_age_s:
                continue
            place = places.get(str(r.fields.get("station")))
            if place is None:
                notes.append(f"van {van_id}: unknown place {r.fields.get('station')!r}")
                continue
            load = r.fields.get("load")
            if van_id not in specs:
                notes.append(f"van {van_id}: not in the inventory, not planned")
                continue
            if not isinstance(load, int):
                continue
            # The van's capacity is the inventory's: a tracker cannot widen it.
            capacity = specs[van_id].capacity
            if load > capacity:
                notes.append(f"van {van_id}: reports {load} on board, capacity {capacity}")
                continue
            vans.append(self._van(van_id, place[0], place[1], capacity, load))
            zones[van_id] = specs[van_id].zone
        return vans, zones

    def _van(self, van_id: str, x: float, y: float, capacity: int, load: int) -> dict[str, Any]:
        return {
            "id": van_id,
            "x": x,
            "y": y,
            "capacity": capacity,
            "load": load,
            "time_available_s": self.settings.van_time_s,
        }

    def _kpis(
        self, problem: LiveMobility, routes: dict[str, list[dict[str, Any]]], plan: DynamicPlan
    ) -> dict[str, float]:
        """Expected unmet trips with the commanded routes (after clamping) and without."""
        from optimiser.mobility.dynamic.day import Day, evaluate

        day = Day(problem.problem)
        index = {s.id: i for i, s in enumerate(problem.problem.stations)}
        commanded = [
            [(index[s["station"]], s["load"], abs(s["load"])) for s in routes.get(van.id, [])]
            for van in problem.problem.vans
        ]
        figures = evaluate(day, commanded)
        baseline = float(day.baseline.sum())
        return {
            "unmet_do_nothing": round(baseline, 3),
            "unmet_planned": round(figures.unmet, 3),
            "unmet_avoided": round(baseline - figures.unmet, 3),
            "driving_h": round(figures.driving_s / 3600.0, 3),
            "vehicles_moved": float(sum(abs(s["load"]) for r in routes.values() for s in r)),
            "stops": float(sum(len(r) for r in routes.values())),
            "vans_routed": float(sum(1 for r in routes.values() if r)),
        }


def safe_routes(
    problem: LiveMobility, plan: DynamicPlan
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """The plan's stops cut to what the readings allow; also how many vehicles were cut."""
    stock = {sid: int(r.fields["availableBikeNumber"]) for sid, r in problem.stations.items()}
    docks = {sid: int(r.fields["freeSlotNumber"]) for sid, r in problem.stations.items()}
    vans = {v.id: v for v in problem.problem.vans}
    routes: dict[str, list[dict[str, Any]]] = {}
    clamped = 0
    for route in plan.routes:
        van = vans[route.van]
        carried, stops = van.load, []
        for stop in route.stops:
            if stop.load > 0:
                moved = min(stop.load, stock[stop.station], van.capacity - carried)
                stock[stop.station] -= moved
                carried += moved
                load = moved
            else:
                moved = min(-stop.load, docks[stop.station], carried)
                docks[stop.station] -= moved
                carried -= moved
                load = -moved
            clamped += abs(stop.load) - moved
            if load:
                stops.append({"station": stop.station, "load": load})
        routes[route.van] = stops
    return routes, clamped
