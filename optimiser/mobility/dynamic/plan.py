"""Day rebalancing under a deadline: greedy plan first, then prize-collecting routing.

`plan_dynamic` always returns a feasible plan: the greedy plan is built first (cut short
by the deadline if need be), the routing search gets the time left, the loads of its
routes are re-optimised by DP on their exact timeline, and the better of the two plans
(by exact evaluation) is returned. When routing yields nothing the greedy plan is the
fallback, flagged as such, unless no station was worth a visit at all (then the empty
plan is the answer, not a fallback).
"""

from __future__ import annotations

import time

import numpy as np

from optimiser.mobility.dynamic.day import Day, Evaluation, Plan, evaluate
from optimiser.mobility.dynamic.greedy import greedy_plan
from optimiser.mobility.dynamic.loads import settle, tighten
from optimiser.mobility.dynamic.prizes import Prizes, pick_candidates, station_prizes, timing
from optimiser.mobility.dynamic.routing import Candidates, solve_day_routing
from optimiser.mobility.model import DynamicPlan, DynamicProblem, DynamicRoute, DynamicStop

_GREEDY_SHARE = 0.3  # of the deadline, at most, for the greedy plan
_FINISH_S = 0.1  # kept back for settling loads and assembling the answer, per 10 s
_MIN_SLICE_S = 1.0  # shortest routing search worth starting
_CANDIDATES_PER_VAN = 25
_MAX_CANDIDATES = 600


def plan_dynamic(problem: DynamicProblem, deadline_s: float) -> DynamicPlan:
    """Plan the vans' visits within `deadline_s` seconds from now (wall time)."""
    began = time.monotonic()
    deadline = began + max(0.0, deadline_s)
    day = Day(problem)
    prizes = station_prizes(day)
    worth = pick_candidates(prizes)
    plan = greedy_plan(day, worth, began + _GREEDY_SHARE * deadline_s)
    figures = evaluate(day, plan)
    if not figures.feasible:  # cannot happen by construction; do nothing rather than harm
        plan = [[] for _ in problem.vans]
        figures = evaluate(day, plan)
    bound = _lower_bound(day, prizes.earliest)
    routed_once, improved = False, False
    reserve = max(0.05, _FINISH_S * deadline_s / 10.0)
    while (left := deadline - time.monotonic() - reserve) > _MIN_SLICE_S:
        candidates = _routing_candidates(worth, plan, len(problem.vans))
        offer = _offer(day, prizes, candidates, plan)
        slice_s = left if left < 3 * _MIN_SLICE_S else max(_MIN_SLICE_S, left / 3)
        routed = solve_day_routing(day, offer, slice_s, start=plan)
        if routed is None:
            break
        routed_once = True
        settled = [tighten(day, v, settle(day, v, stops)) for v, stops in enumerate(routed)]
        settled_figures = evaluate(day, settled)
        if not settled_figures.feasible or settled_figures.objective >= figures.objective - 1e-6:
            break
        plan, figures, improved = settled, settled_figures, True
    method = "routing" if improved else "greedy"
    # With no station worth a visit the routing has nothing to search: doing nothing is
    # then the plan itself, not a stand-in for a search that failed.
    fallback = not routed_once and len(worth) > 0
    return _assemble(day, plan, figures, bound, fallback, method, began)


def _routing_candidates(worth: np.ndarray, plan: Plan, vans: int) -> np.ndarray:
    """The most valuable stations (a few hundred) plus every station the plan visits."""
    limit = min(_MAX_CANDIDATES, max(40, _CANDIDATES_PER_VAN * vans))
    chosen = dict.fromkeys(int(s) for s in worth[:limit])
    chosen.update(dict.fromkeys(station for stops in plan for station, _, _ in stops))
    return np.array(list(chosen), dtype=int)


def _offer(day: Day, prizes: Prizes, candidates: np.ndarray, plan: Plan) -> Candidates:
    """Candidates with their routing change and value. The plan's stops keep their change
    and are valued at their planned arrival (so that the search starts from the plan and
    prices it right); the others at the time a van would reach them from the nearest
    planned stop (or from where it is), when it could be inserted there."""
    when = _insertion_times(day, prizes, plan)
    change = prizes.modest.copy()
    reserved = np.abs(prizes.best)
    for van, stops in enumerate(plan):
        arrivals, _, _ = day.timeline(van, stops)
        for (station, delta, booked), arrival in zip(stops, arrivals, strict=True):
            when[station], change[station], reserved[station] = arrival, delta, booked
    valued = station_prizes(day, when)
    change, reserved = change[candidates], reserved[candidates]
    fit = timing(day, candidates, when[candidates], change)
    return Candidates(
        stations=candidates,
        change=change,
        reserved=np.maximum(reserved, np.abs(change)),
        prize=np.maximum(valued.value(candidates, change), 0.0),
        late_from=fit.late_from,
        late_rate=fit.late_rate,
        early_from=fit.early_from,
        early_rate=fit.early_rate,
    )


def _insertion_times(day: Day, prizes: Prizes, plan: Plan) -> np.ndarray:
    """Per station: arrival when reached from the nearest planned stop (or van start)."""
    places, ready = [day.van_xy], [np.zeros(len(day.problem.vans))]
    for van, stops in enumerate(plan):
        if stops:
            arrivals, _, _ = day.timeline(van, stops)
            places.append(day.station_xy[[s for s, _, _ in stops]])
            booked = np.array([r for _, _, r in stops])
            ready.append(np.array(arrivals) + day.service_s(booked))
    origins, leave = np.vstack(places), np.concatenate(ready)
    travel = np.atleast_2d(day.travel_s(origins, day.station_xy))
    nearest = travel.argmin(axis=0)
    reach = leave[nearest] + travel[nearest, np.arange(travel.shape[1])]
    return np.where(np.isfinite(prizes.earliest), np.maximum(reach, prizes.when), prizes.when)


def _lower_bound(day: Day, earliest: np.ndarray) -> float:
    reachable = np.flatnonzero(np.isfinite(earliest))
    bound = day.baseline.copy()
    if len(reachable):
        bound[reachable] = day.unmet_demand.lower_bound(reachable, earliest[reachable])
    return float(bound.sum())


def _assemble(
    day: Day,
    plan: Plan,
    figures: Evaluation,
    bound: float,
    fallback: bool,
    method: str,
    began: float,
) -> DynamicPlan:
    p = day.problem
    routes = []
    for v, stops in enumerate(plan):
        load, visits = p.vans[v].load, []
        for k, (station, change, reserved) in enumerate(stops):
            load += change
            visits.append(
                DynamicStop(
                    station=p.stations[station].id,
                    load=change,
                    arrival_s=round(figures.arrivals[v][k], 1),
                    service_s=round(float(day.service_s(reserved)), 1),
                    van_load_after=load,
                    inventory_after=round(figures.levels[v][k], 2),
                )
            )
        _, driving, busy = day.timeline(v, stops)
        routes.append(
            DynamicRoute(
                van=p.vans[v].id, stops=visits, driving_s=round(driving, 1), busy_s=round(busy, 1)
            )
        )
    baseline = float(day.baseline.sum())
    moved = sum(abs(c) for stops in plan for _, c, _ in stops)
    kpis = {
        "unmet_do_nothing": round(baseline, 3),
        "unmet_planned": round(figures.unmet, 3),
        "unmet_avoided": round(baseline - figures.unmet, 3),
        "unmet_avoided_pct": round(100.0 * (baseline - figures.unmet) / baseline, 2)
        if baseline
        else 0.0,
        "driving_h": round(figures.driving_s / 3600.0, 3),
        "vehicles_moved": float(moved),
        "stops": float(sum(len(s) for s in plan)),
        "vans_used": float(sum(1 for s in plan if s)),
        "routing_used": 1.0 if method == "routing" else 0.0,
    }
    return DynamicPlan(
        status="fallback" if fallback else "feasible",
        fallback=fallback,
        objective=round(figures.objective, 4),
        best_bound=round(min(bound, figures.objective), 4),
        unmet_demand=round(figures.unmet, 4),
        driving_s=round(figures.driving_s, 1),
        routes=routes,
        kpis=kpis,
        solve_ms=int((time.monotonic() - began) * 1000),
    )
