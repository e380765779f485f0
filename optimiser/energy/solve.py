"""Solve an energy problem under a deadline; always return a plan that keeps every limit."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optimiser.energy.arrays import EnergyArrays
from optimiser.energy.greedy import greedy_plan, uncontrolled_plan
from optimiser.energy.kpis import feeder_load, kpis
from optimiser.energy.lp import solve_lp
from optimiser.energy.model import EnergyProblem
from optimiser.errors import ProblemError, load_problem_file

log = logging.getLogger(__name__)
MODES = ("cost", "headroom", "greedy")


@dataclass(frozen=True)
class EnergyPlan:
    """A solved energy problem: set-points, battery schedules and how they were found."""

    problem: EnergyProblem
    arrays: EnergyArrays
    status: str  # optimal | feasible | fallback
    power: np.ndarray  # (S, H) kW per session and slot
    battery: np.ndarray  # (B, H) kW, charging positive
    soc: np.ndarray  # (B, H) kWh
    solve_ms: float
    message: str
    solver: str = "glop"

    @property
    def fallback(self) -> bool:
        return self.status == "fallback"

    def battery_by_feeder(self) -> np.ndarray:
        total = np.zeros((len(self.arrays.feeder_ids), self.arrays.slots))
        for k, b in enumerate(self.problem.batteries):
            total[self.arrays.feeder_ids.index(b.feeder)] += self.battery[k]
        return total

    def first_setpoints(self) -> dict[str, float]:
        """kW per session for slot 0, rounded down so rounding never adds load."""
        if self.arrays.slots == 0:
            return {}
        first = _floor(self.power[:, 0], 3)
        return dict(zip(self.arrays.session_ids, map(float, first), strict=True))

    def to_json(self) -> dict[str, Any]:
        arrays, dt = self.arrays, self.arrays.slot_hours
        delivered = self.power.sum(axis=1) * dt
        load = feeder_load(arrays, self.power, self.battery_by_feeder())
        figures = kpis(arrays, self.power, self.battery_by_feeder(), uncontrolled_plan(arrays))
        peaks = load.max(axis=1) if load.size else np.zeros(0)
        cost = figures["cost"]["plan"] + self.problem.peak_price * float(peaks.sum())
        objective = {"delivered_kwh": round(float(delivered.sum()), 6), "cost": round(cost, 6)}
        # An LP solved to optimality proves its own objective; the greedy plan proves nothing
        # beyond what each session could take on its own.
        bound = (
            objective
            if self.status == "optimal"
            else {"delivered_kwh": round(float(arrays.deliverable_bound().sum()), 6), "cost": None}
        )
        return {
            "domain": "energy",
            "status": self.status,
            "fallback": self.fallback,
            "solver": self.solver,
            "message": self.message,
            "solve_ms": round(self.solve_ms, 1),
            "objective": objective,
            "best_bound": bound,
            "kpis": figures,
            "decisions": {
                "start": self.problem.start,
                "slot_minutes": self.problem.slot_minutes,
                "setpoints_kw": {
                    sid: _floor(row, 4).tolist()
                    for sid, row in zip(arrays.session_ids, self.power, strict=True)
                },
                "delivered_kwh": {
                    sid: round(float(v), 4)
                    for sid, v in zip(arrays.session_ids, delivered, strict=True)
                },
                "feeder_load_kw": {
                    fid: np.round(row, 4).tolist()
                    for fid, row in zip(arrays.feeder_ids, load, strict=True)
                },
                "feeder_limit_kw": {
                    fid: np.round(row, 4).tolist()
                    for fid, row in zip(arrays.feeder_ids, arrays.limit, strict=True)
                },
                "battery_kw": {
                    b.id: np.round(self.battery[k], 4).tolist()
                    for k, b in enumerate(self.problem.batteries)
                },
                "battery_soc_kwh": {
                    b.id: np.round(self.soc[k], 4).tolist()
                    for k, b in enumerate(self.problem.batteries)
                },
            },
        }


def solve(
    problem: EnergyProblem, time_limit: float = 10.0, mode: str | None = None, solver: str = "glop"
) -> EnergyPlan:
    """One LP per feeder within `time_limit` seconds in all; a feeder whose LP fails or
    runs out of time gets the greedy plan instead, and the plan says so."""
    objective = mode or problem.objective
    if objective not in MODES:
        raise ProblemError(f"mode: energy takes one of {', '.join(MODES)}, not {objective!r}")
    started = time.perf_counter()
    deadline = time.monotonic() + time_limit
    arrays = EnergyArrays.from_problem(problem)
    power = np.zeros((len(arrays.session_ids), arrays.slots))
    battery = np.zeros((len(problem.batteries), arrays.slots))
    soc = np.array([b.soc_kwh for b in problem.batteries])[:, None] + battery
    fell_back: dict[str, str] = {}
    for k, feeder_id in enumerate(arrays.feeder_ids):
        sub, sessions = arrays.feeder(k)
        mine = [j for j, b in enumerate(problem.batteries) if b.feeder == feeder_id]
        if not len(sessions) and not mine:
            continue
        left = deadline - time.monotonic()
        reason = "greedy plan asked for" if objective == "greedy" else "deadline passed"
        if objective != "greedy" and left > 0:
            batteries = [problem.batteries[j] for j in mine]
            result = solve_lp(sub, batteries, problem.peak_price, objective, left, solver)
            if result.power is not None and result.battery is not None and result.soc is not None:
                power[sessions] = _keep_limits(sub, result.power, result.battery.sum(axis=0))
                battery[mine], soc[mine] = result.battery, result.soc
                continue
            reason = f"LP {result.message}"
            log.warning("energy LP for feeder %s gave no plan (%s): greedy", feeder_id, reason)
        power[sessions] = greedy_plan(sub)
        fell_back[feeder_id] = reason
    message = _fallback_message(fell_back)
    return EnergyPlan(
        problem, arrays, "fallback" if fell_back else "optimal", power, battery, soc,
        (time.perf_counter() - started) * 1000, message,
        "greedy" if objective == "greedy" else solver,
    )  # fmt: skip


def _fallback_message(fell_back: dict[str, str]) -> str:
    """'greedy plan on feeders a, b (LP ran out of time)', one clause per reason."""
    by_reason: dict[str, list[str]] = {}
    for feeder_id, reason in fell_back.items():
        by_reason.setdefault(reason, []).append(feeder_id)
    clauses = []
    for reason, feeders in by_reason.items():
        named = ", ".join(feeders[:5]) + (
            f" and {len(feeders) - 5} more" if len(feeders) > 5 else ""
        )
        clauses.append(f"greedy plan on feeders {named} ({reason})")
    return "; ".join(clauses)


def _keep_limits(arrays: EnergyArrays, power: np.ndarray, battery: np.ndarray) -> np.ndarray:
    """Clip solver round-off so that no set-point passes a charger's or the feeder's limit
    (`arrays` holds one feeder, `battery` its batteries' summed power per slot)."""
    cap = np.minimum(arrays.max_power, arrays.energy / arrays.slot_hours)
    power = np.clip(power, 0.0, cap[:, None]) * arrays.window
    allowed = np.maximum(arrays.limit[0] - arrays.base[0] + arrays.pv[0] - battery, 0.0)
    ev = power.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(ev > allowed, allowed / ev, 1.0)
    return power * scale


def _floor(values: np.ndarray, digits: int) -> np.ndarray:
    factor = 10.0**digits
    return np.floor(np.maximum(values, 0.0) * factor) / factor


def load_problem(path: Path) -> EnergyProblem:
    """Read and validate an energy problem file."""
    return load_problem_file(EnergyProblem, path)


def solve_file(path: Path, time_limit: float = 10.0, mode: str | None = None) -> dict[str, Any]:
    """The offline entry point: a problem file in, a JSON-able solution out."""
    return solve(load_problem(path), time_limit, mode).to_json()
