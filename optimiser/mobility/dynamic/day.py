"""The day problem prepared for solving: travel times, unmet demand and plan evaluation.

A plan is, per van, an ordered list of (station index, change) with change > 0 taking
vehicles from the station. Each stop takes `stop_s + handling_s x reserved` seconds,
where `reserved` (>= |change|) is the handling time the van books for it; vans start
now at their position and stop wherever their last visit is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimiser.mobility.dynamic.unmet_demand import UnmetDemand
from optimiser.mobility.model import DynamicProblem

Stop = tuple[int, int, int]  # station index, change (+ take, - leave), reserved vehicles
Plan = list[list[Stop]]


@dataclass
class Day:
    """Precomputed data of one dynamic problem."""

    problem: DynamicProblem
    unmet_demand: UnmetDemand = field(init=False)
    station_xy: np.ndarray = field(init=False)
    van_xy: np.ndarray = field(init=False)
    baseline: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        p = self.problem
        self.unmet_demand = UnmetDemand.of(p)
        self.station_xy = np.array([(s.x, s.y) for s in p.stations], dtype=float)
        self.van_xy = np.array([(v.x, v.y) for v in p.vans], dtype=float)
        self.baseline = self.unmet_demand.do_nothing()

    @property
    def seconds_per_km(self) -> float:
        return self.problem.road_factor * 3600.0 / self.problem.speed_kmh

    @property
    def cost_per_s(self) -> float:
        """Driving cost of one second, in unmet trips."""
        return self.problem.driving_weight / 3600.0

    def travel_s(self, origin: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Driving seconds from one point (2,) or many (k, 2) to the targets (m, 2)."""
        origin = np.atleast_2d(origin)
        diff = origin[:, None, :] - targets[None, :, :]
        seconds = np.sqrt((diff**2).sum(axis=2)) * self.seconds_per_km
        return seconds[0] if seconds.shape[0] == 1 else seconds

    def service_s(self, reserved: int | np.ndarray) -> np.ndarray:
        """Seconds a stop takes when `reserved` vehicles of handling are booked."""
        return np.asarray(self.problem.stop_s + self.problem.handling_s * np.abs(reserved))

    def timeline(self, van: int, stops: list[Stop]) -> tuple[list[float], float, float]:
        """Arrival time of each stop, total driving seconds, and busy seconds."""
        position, clock, driving, arrivals = self.van_xy[van], 0.0, 0.0, []
        for station, _, reserved in stops:
            leg = float(self.travel_s(position, self.station_xy[station : station + 1])[0])
            clock += leg
            driving += leg
            arrivals.append(clock)
            clock += float(self.service_s(reserved))
            position = self.station_xy[station]
        return arrivals, driving, clock


@dataclass
class Evaluation:
    """A plan's exact figures under the fluid model."""

    unmet: float
    driving_s: float
    objective: float
    arrivals: list[list[float]]
    levels: list[list[float]]
    busy_s: list[float]
    problems: list[str]

    @property
    def feasible(self) -> bool:
        return not self.problems


def evaluate(day: Day, plan: Plan) -> Evaluation:
    """Time the routes, check every constraint, and compute the expected unmet demand."""
    p, problems = day.problem, []
    lost = day.baseline.copy()
    driving_total, arrivals, levels, busy = 0.0, [], [], []
    seen: set[int] = set()
    for van, stops in enumerate(plan):
        times, driving, clock = day.timeline(van, stops)
        driving_total += driving
        arrivals.append(times)
        busy.append(clock)
        if clock > p.vans[van].time_available_s + 1e-6:
            problems.append(f"van {p.vans[van].id}: busy {clock:.0f} s beyond its time")
        station_ids = np.array([s for s, _, _ in stops], dtype=int)
        changes = np.array([[c] for _, c, _ in stops], dtype=float).reshape(-1, 1)
        level_now, with_visit = day.unmet_demand.visit(station_ids, np.array(times), changes)
        levels.append(list(level_now - changes[:, 0]))
        load = p.vans[van].load
        for k, (station, change, reserved) in enumerate(stops):
            load += change
            if station in seen:
                problems.append(f"station {p.stations[station].id} visited twice")
            seen.add(station)
            if abs(change) > reserved:
                problems.append(f"station {p.stations[station].id}: change beyond reservation")
            if not 0 <= load <= p.vans[van].capacity:
                problems.append(f"van {p.vans[van].id}: load {load} out of [0, capacity]")
            if not np.isfinite(with_visit[k, 0]):
                problems.append(f"station {p.stations[station].id}: change {change} does not fit")
            else:
                lost[station] = with_visit[k, 0]
    unmet = float(lost.sum())
    return Evaluation(
        unmet=unmet,
        driving_s=driving_total,
        objective=unmet + day.cost_per_s * driving_total,
        arrivals=arrivals,
        levels=levels,
        busy_s=busy,
        problems=problems,
    )
