"""`solve_file`: read a mobility problem (JSON or YAML), solve it, return a JSON-able answer."""

from __future__ import annotations

import math
import pathlib
from typing import Any

from optimiser.errors import ProblemError, as_problem_error
from optimiser.mobility.dynamic.plan import plan_dynamic
from optimiser.mobility.model import DynamicProblem, StaticProblem
from optimiser.mobility.static.solve import describe_routes, solve_static
from territory import documents

MODES = ("static", "dynamic")


def load_problem(path: pathlib.Path, mode: str | None = None) -> StaticProblem | DynamicProblem:
    """Parse and validate a problem file; errors name the offending field."""
    with as_problem_error():
        data = documents.read_mapping(path, "problem")
    if mode is not None and mode not in MODES:
        raise ProblemError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    declared = data.get("type")
    if declared is not None and declared not in MODES:
        raise ProblemError(f"type: {declared!r} is not one of {', '.join(MODES)}")
    if mode is not None and declared is not None and declared != mode:
        raise ProblemError(f"type: the file says {declared!r} but mode {mode!r} was asked")
    kind = mode or declared
    if kind is None:
        raise ProblemError("type: missing; set it to 'static' or 'dynamic' (or pass a mode)")
    data = {**data, "type": kind}
    with as_problem_error():
        if kind == "static":
            return documents.validate(StaticProblem, data, path)
        return documents.validate(DynamicProblem, data, path)


def solve_file(path: pathlib.Path, time_limit: float, mode: str | None = None) -> dict[str, Any]:
    """Solve the problem in `path` within about `time_limit` seconds."""
    if not math.isfinite(time_limit) or time_limit <= 0:
        raise ProblemError(f"time_limit: must be a positive number of seconds, got {time_limit}")
    problem = load_problem(path, mode)
    if isinstance(problem, StaticProblem):
        return static_answer(problem, time_limit)
    plan = plan_dynamic(problem, time_limit)
    return {"domain": "mobility", "type": "dynamic", **plan.model_dump()}


def static_answer(problem: StaticProblem, time_limit: float) -> dict[str, Any]:
    """Solve a night run and shape the answer: routes, KPIs against doing nothing."""
    result = solve_static(problem, time_limit)
    routes = describe_routes(problem, result.routes)
    imbalance = sum(abs(s.change) for s in problem.stations)
    served = sum(len(r.stops) for r in routes)
    kpis: dict[str, float] = {
        "stations": float(len(problem.stations)),
        "stations_rebalanced": float(served),
        "imbalance_do_nothing": float(imbalance),
        "imbalance_after": float(imbalance if result.status == "failed" else 0),
        "travel_cost": float(result.objective or 0),
        "travel_cost_do_nothing": 0.0,
        "vans_used": float(len(routes)),
        "cost_per_vehicle_moved": round((result.objective or 0) / imbalance, 3)
        if imbalance
        else 0.0,
    }
    gap = None
    if result.objective:
        gap = round(100.0 * (result.objective - result.best_bound) / result.objective, 3)
    # An infinite bound (proved infeasible) has no JSON number: reported as null.
    bound = round(result.best_bound, 3) if math.isfinite(result.best_bound) else None
    return {
        "domain": "mobility",
        "type": "static",
        "status": result.status,
        "fallback": result.status == "fallback",
        "objective": result.objective,
        "best_bound": bound,
        "gap_pct": gap,
        "method": result.method,
        "routes": [r.model_dump() for r in routes],
        "kpis": kpis,
        "solve_ms": result.solve_ms,
    }
