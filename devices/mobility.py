"""Shared bikes: stations, riders travelling between them, and rebalancing vans.

Riders appear at stations from a time-of-day demand (leaving residential zones in the
morning, commercial ones in the evening) and pick destinations by the zones' pull at
that hour. A rider who finds no bike, or no free dock at the end of the ride, is the
unmet demand the mobility optimiser tries to prevent.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

from devices import profiles
from devices.device import Device
from devices.kpis import Kpis
from devices.scenario import Scenario, Van

RIDE_SPEED_KMH = 14.0
ROAD_DETOUR = 1.3  # road distance / straight-line distance
RETRY_S = 300.0
_PROFILES = (
    "residential",
    "commercial",
    "mixed",
    "rural",
)  # a rider facing a full station tries again after this long


@dataclass(slots=True, kw_only=True)
class StationState(Device):
    slots: int
    bikes: int
    trips_per_day: float
    x: float
    y: float
    zone_profile: str


@dataclass(slots=True)
class VanState:
    """A van driving its route: stops are (station index, load: +pick up / -drop off)."""

    spec: Van
    x: float
    y: float
    carried: int = 0
    stops: list[tuple[int, int]] = field(default_factory=list)
    arrives_at: float = 0.0  # when it reaches stops[0]
    plan: str = ""
    station: str = ""  # station it is at or last left; the depot zone's id before any stop
    busy_until: float = 0.0  # end of the stop it is servicing


@dataclass(slots=True, kw_only=True)
class VanDevice(Device):
    """The van's tracker: reports what the van is doing, where, and what it carries."""

    van: VanState
    status: str = "idle"

    def sample(self, t: float) -> None:
        if t < self.van.busy_until:
            self.status = "servicing"
        else:
            self.status = "driving" if self.van.stops else "idle"


def distance_km(ax: float, ay: float, bx: float, by: float) -> float:
    return ROAD_DETOUR * math.hypot(ax - bx, ay - by)


class BikeNetwork:
    """Stations, rides in progress and vans."""

    def __init__(self, scenario: Scenario, stations: list[StationState]) -> None:
        self.stations = stations
        self.index = {s.device_id: i for i, s in enumerate(stations)}
        zones = [z.id for z in scenario.zones]
        self._zone_stations: dict[str, list[int]] = {z: [] for z in zones}
        for i, station in enumerate(stations):
            self._zone_stations[station.zone].append(i)
        self._zone_pos = {z.id: (z.x, z.y) for z in scenario.zones}
        self._zone_profile = {z.id: z.profile for z in scenario.zones}
        self._served_zones = [z for z in zones if self._zone_stations[z]]
        self.rides: list[tuple[float, int, int]] = []  # (arrival time, tie-break, station)
        self._tiebreak = itertools.count()
        self.vans: dict[str, VanState] = {}
        for van in scenario.vans:
            x, y = self._zone_pos[van.zone]
            self.vans[van.id] = VanState(van, x, y, station=van.zone)
        self._hour_tables: dict[tuple[str, int], tuple[list[str], list[float]]] = {}

    def step(self, t: float, dt: float, hour: float, rng: random.Random, kpis: Kpis) -> None:
        self._land_rides(t, kpis)
        shapes = {p: profiles.departures_from(p, hour) for p in _PROFILES}
        for i, station in enumerate(self.stations):
            rate = station.trips_per_day / 86400.0 * shapes[station.zone_profile]
            for _ in range(poisson(rate * dt, rng)):
                # The destination is drawn even when there is no bike, so that a seed's
                # demand stream is the same however the stations were rebalanced.
                destination = self._destination(i, hour, rng)
                if station.bikes == 0:
                    kpis.unmet_bike_pickups += 1
                    continue
                station.bikes -= 1
                target = self.stations[destination]
                ride_s = (
                    120.0
                    + 3600.0
                    * distance_km(station.x, station.y, target.x, target.y)
                    / RIDE_SPEED_KMH
                )
                heapq.heappush(self.rides, (t + ride_s, next(self._tiebreak), destination))
        for van in self.vans.values():
            self._drive(van, t, kpis)

    def _land_rides(self, t: float, kpis: Kpis) -> None:
        while self.rides and self.rides[0][0] <= t:
            arrival, _, destination = heapq.heappop(self.rides)
            station = self.stations[destination]
            if station.bikes < station.slots:
                station.bikes += 1
                continue
            kpis.unmet_bike_returns += 1
            fallback = self._nearest_with_room(destination)
            if fallback is None:
                heapq.heappush(self.rides, (arrival + RETRY_S, next(self._tiebreak), destination))
            else:
                self.stations[fallback].bikes += 1

    def _nearest_with_room(self, full: int) -> int | None:
        origin = self.stations[full]
        best: tuple[float, int] | None = None
        for i in self._zone_stations[origin.zone]:
            other = self.stations[i]
            if other.bikes < other.slots:
                gap = math.hypot(other.x - origin.x, other.y - origin.y)
                if best is None or gap < best[0]:
                    best = (gap, i)
        return None if best is None else best[1]

    def _destination(self, origin: int, hour: float, rng: random.Random) -> int:
        zones, cumulative = self._zone_table(self.stations[origin].zone, int(hour))
        zone = zones[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
        candidates = self._zone_stations[zone]
        return candidates[int(rng.random() * len(candidates))]

    def _zone_table(self, origin_zone: str, hour: int) -> tuple[list[str], list[float]]:
        """Cumulative weights of destination zones: pull at this hour over distance."""
        key = (origin_zone, hour)
        table = self._hour_tables.get(key)
        if table is None:
            ox, oy = self._zone_pos[origin_zone]
            weights = []
            for zone in self._served_zones:
                zx, zy = self._zone_pos[zone]
                pull = profiles.attraction_of(self._zone_profile[zone], hour + 0.5)
                stations = len(self._zone_stations[zone])
                weights.append(pull * stations / (1.0 + math.hypot(zx - ox, zy - oy)) ** 2)
            table = (self._served_zones, list(itertools.accumulate(weights)))
            self._hour_tables[key] = table
        return table

    def assign_route(self, van_id: str, stops: list[tuple[int, int]], plan: str, t: float) -> None:
        """Replace the van's remaining route; it heads for the first stop from where it is."""
        van = self.vans[van_id]
        van.stops = list(stops)
        van.plan = plan
        if stops:
            van.arrives_at = t + self._travel_s(van, stops[0][0])

    def _travel_s(self, van: VanState, station_index: int) -> float:
        station = self.stations[station_index]
        return 3600.0 * distance_km(van.x, van.y, station.x, station.y) / van.spec.speed_kmh

    def _drive(self, van: VanState, t: float, kpis: Kpis) -> None:
        while van.stops and van.arrives_at <= t:
            station_index, load = van.stops.pop(0)
            station = self.stations[station_index]
            kpis.van_km += distance_km(van.x, van.y, station.x, station.y)
            van.x, van.y = station.x, station.y
            van.station = station.device_id
            van.busy_until = van.arrives_at + 60.0 * van.spec.stop_minutes
            if load > 0:
                moved = min(load, station.bikes, van.spec.capacity - van.carried)
                station.bikes -= moved
                van.carried += moved
            elif load < 0:
                moved = min(-load, van.carried, station.slots - station.bikes)
                station.bikes += moved
                van.carried -= moved
            if van.stops:
                van.arrives_at += 60.0 * van.spec.stop_minutes + self._travel_s(
                    van, van.stops[0][0]
                )


def poisson(mean: float, rng: random.Random) -> int:
    """A Poisson draw (Knuth's method for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
