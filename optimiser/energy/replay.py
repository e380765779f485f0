"""Online replay: sessions become known only at their arrival slot, the plan is re-solved
every slot and only its first slot applied (model-predictive control); compared with the
offline optimum that knows every session in advance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationError

from optimiser.energy.model import EnergyProblem, PerSlot, SessionSpec, _Strict, per_slot
from optimiser.energy.solve import solve
from optimiser.errors import ProblemError, load_problem_file
from territory import documents

ONLINE_OBJECTIVE = "headroom"
SERVED_TOLERANCE_KWH = 1e-3


class ReplaySessions(_Strict):
    """A day (or more) of EV sessions to replay against feeder limits."""

    slot_minutes: float = Field(default=15, gt=0, le=1440, description="Length of a slot.")
    horizon_slots: int = Field(gt=0, le=10_000, description="Number of slots replayed.")
    base_load_kw: PerSlot = Field(
        default=0.0, description="Base load of every feeder, kW: one value, or one per slot."
    )
    sessions: list[SessionSpec] = Field(description="The sessions, each with its feeder.")


def load_sessions(path: Path) -> ReplaySessions:
    return load_problem_file(ReplaySessions, path, "sessions")


def offline_problem(replay_input: ReplaySessions, limit_kw: float) -> EnergyProblem:
    """Every session known in advance, every feeder at `limit_kw`."""
    feeders = sorted({s.feeder for s in replay_input.sessions}) or ["feeder"]
    try:
        return EnergyProblem(
            slot_minutes=replay_input.slot_minutes,
            horizon_slots=replay_input.horizon_slots,
            feeders=[
                {"id": f, "limit_kw": limit_kw, "base_load_kw": replay_input.base_load_kw}
                for f in feeders
            ],
            sessions=replay_input.sessions,
            peak_price=0.0,
            objective=ONLINE_OBJECTIVE,
        )
    except ValidationError as exc:
        raise ProblemError(documents.describe(exc)) from exc


def replay(
    replay_input: ReplaySessions,
    limit_kw: float,
    objective: str = ONLINE_OBJECTIVE,
    time_limit: float = 60.0,
) -> dict[str, Any]:
    """The online figures (each slot solved with `objective`: headroom, cost or greedy)
    next to the offline optimum's."""
    problem = offline_problem(replay_input, limit_kw)
    offline = solve(problem, time_limit)
    online, fallback_slots = _online(problem, objective, time_limit)
    dt = problem.slot_hours
    online_figures = _figures(problem, online, dt)
    offline_figures = _figures(problem, offline.power, dt)
    best = offline_figures["delivered_kwh"]
    return {
        "limit_kw": limit_kw,
        "sessions": len(problem.sessions),
        "requested_kwh": float(sum(s.energy_kwh for s in problem.sessions)),
        "online": online_figures,
        "offline": offline_figures,
        "online_objective": objective,
        "online_to_offline": online_figures["delivered_kwh"] / best if best else 1.0,
        "offline_fallback": offline.fallback,
        "online_fallback_slots": fallback_slots,
    }


def _online(problem: EnergyProblem, objective: str, time_limit: float) -> tuple[np.ndarray, int]:
    """(S, H) kW applied slot by slot, each slot planned knowing only arrived sessions."""
    sessions = problem.sessions
    horizon = problem.horizon_slots
    remaining = np.array([s.energy_kwh for s in sessions])
    arrival = np.array([s.arrival_slot for s in sessions])
    departure = np.array([s.departure_slot for s in sessions])
    applied = np.zeros((len(sessions), horizon))
    dt = problem.slot_hours
    fallback_slots = 0
    for t in range(horizon):
        known = np.flatnonzero((arrival <= t) & (departure > t) & (remaining > 1e-9))
        if not len(known):
            continue
        ahead = int(departure[known].max()) - t
        now = _from_slot(problem, t, ahead, known, remaining)
        plan = solve(now, time_limit, objective)
        applied[known, t] = plan.power[:, 0]
        remaining[known] -= plan.power[:, 0] * dt
        fallback_slots += plan.fallback and objective != "greedy"
    return applied, fallback_slots


def _from_slot(
    problem: EnergyProblem, t: int, ahead: int, known: np.ndarray, remaining: np.ndarray
) -> EnergyProblem:
    """The problem as seen at slot t: known sessions with what they still need."""
    window = slice(t, t + ahead)
    feeders = [
        f.model_copy(
            update={
                "limit_kw": per_slot(f.limit_kw, problem.horizon_slots)[window].tolist(),
                "base_load_kw": per_slot(f.base_load_kw, problem.horizon_slots)[window].tolist(),
                "pv_kw": per_slot(f.pv_kw, problem.horizon_slots)[window].tolist(),
            }
        )
        for f in problem.feeders
    ]
    sessions = [
        problem.sessions[i].model_copy(
            update={
                "arrival_slot": 0,
                "departure_slot": problem.sessions[i].departure_slot - t,
                "energy_kwh": float(remaining[i]),
            }
        )
        for i in known
    ]
    return problem.model_copy(
        update={"horizon_slots": ahead, "feeders": feeders, "sessions": sessions}
    )


def _figures(problem: EnergyProblem, power: np.ndarray, dt: float) -> dict[str, float]:
    requested = np.array([s.energy_kwh for s in problem.sessions])
    delivered = power.sum(axis=1) * dt
    feeder_index = {f.id: k for k, f in enumerate(problem.feeders)}
    load = np.array([per_slot(f.base_load_kw, problem.horizon_slots) for f in problem.feeders])
    for i, s in enumerate(problem.sessions):
        load[feeder_index[s.feeder]] += power[i]
    total = float(requested.sum()) or 1.0
    return {
        "delivered_kwh": float(delivered.sum()),
        "delivered_pct": 100.0 * float(delivered.sum()) / total,
        "served_pct": 100.0 * float(np.mean(delivered >= requested - SERVED_TOLERANCE_KWH))
        if len(requested)
        else 100.0,
        "peak_kw": float(load.max()) if load.size else 0.0,
    }


def format_report(report: dict[str, Any]) -> str:
    online, offline = report["online"], report["offline"]
    ratio = report["online_to_offline"]
    lines = [
        f"{report['sessions']} sessions, {report['requested_kwh']:.1f} kWh requested, "
        f"feeder limit {report['limit_kw']:g} kW",
        f"{'':10}{'delivered':>22}{'served':>10}{'peak':>12}",
    ]
    for name, figures in (("online", online), ("offline", offline)):
        lines.append(
            f"{name:10}{figures['delivered_kwh']:>12.1f} kWh {figures['delivered_pct']:>5.1f} %"
            f"{figures['served_pct']:>8.1f} %{figures['peak_kw']:>9.1f} kW"
        )
    lines.append(f"online / offline energy: {100 * ratio:.3f} %")
    return "\n".join(lines)
