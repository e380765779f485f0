"""`solve(problem, deadline_s)`: pick the method, run it, fall back, report.

Min-cost flow when every group uses one resource and may be split (proved optimal,
fast even for a million people once identical ones are merged); CP-SAT when a group
uses several resources at once or must be kept whole. Whatever happens, a feasible
plan comes back: the greedy one when the solver fails or finds nothing in time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from time import perf_counter
from typing import Literal

from optimiser.errors import ProblemError
from optimiser.slots.assignment import Assignment
from optimiser.slots.cpsat import solve_cpsat
from optimiser.slots.disaggregate import (
    named_assignments,
    people_classes,
    people_slots,
    spread_units,
)
from optimiser.slots.flow import solve_flow
from optimiser.slots.greedy import greedy
from optimiser.slots.instance import WEIGHT_SCALE, Instance, build_instance
from optimiser.slots.kpis import compute_kpis
from optimiser.slots.model import Mode, SlotsProblem, SlotsSolution, Status

log = logging.getLogger(__name__)
MODES: tuple[Mode, ...] = ("flow", "cpsat")


@dataclass
class _Outcome:
    assignment: Assignment
    status: Status
    method: Mode | Literal["greedy"]
    bound_milli: int | None
    unassigned_bound: int | None  # proved lower bound on the people unassigned
    note: str = ""
    stage_ms: dict[str, float] = field(default_factory=dict)


def _needs_cpsat(problem: SlotsProblem) -> str | None:
    """Why the flow cannot take `problem` (the first group it cannot), or None."""
    for n, group in enumerate(problem.groups):
        if len(group.resources) > 1:
            return f"groups[{n}] uses {len(group.resources)} resources"
        if group.whole and group.size > 1:
            return f"groups[{n}] must be kept whole"
    return None


def choose_mode(problem: SlotsProblem, mode: str | None) -> Mode:
    """The method for `problem`: the one asked for, else flow when it can."""
    reason = _needs_cpsat(problem)
    if mode is None:
        return "cpsat" if reason else "flow"
    if mode not in MODES:
        raise ProblemError(f"mode: must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "flow" and reason:
        raise ProblemError(f"mode: flow needs single-resource splittable groups; {reason}")
    return "flow" if mode == "flow" else "cpsat"


def _fallback(instance: Instance, note: str) -> _Outcome:
    started = perf_counter()
    try:
        assignment = greedy(instance)
    except Exception:  # the last resort must not take the timer down with it
        log.exception("slots: greedy fallback failed")
        return _Outcome(Assignment.empty(), "failed", "greedy", None, None, note + "; no plan")
    ms = {"fallback": (perf_counter() - started) * 1000}
    return _Outcome(assignment, "fallback", "greedy", None, None, note, ms)


def _by_flow(instance: Instance) -> _Outcome:
    result = solve_flow(instance)
    ms = {"build": result.build_ms, "solve": result.solve_ms}
    if not result.optimal:
        outcome = _fallback(instance, f"min-cost flow ended {result.status}; greedy plan")
        outcome.stage_ms |= ms
        return outcome
    bound = result.assignment.weighted_shift_milli(instance)
    unassigned = result.assignment.unassigned_people(instance)
    note = f"min-cost flow on {instance.groups.size} groups, {result.arcs} arcs"
    return _Outcome(result.assignment, "optimal", "flow", bound, unassigned, note, ms)


def _by_cpsat(instance: Instance, seconds: float, workers: int) -> _Outcome:
    started = perf_counter()
    start = greedy(instance)
    greedy_ms = (perf_counter() - started) * 1000
    result = solve_cpsat(instance, seconds - greedy_ms / 1000, start, workers)
    ms = {"fallback": greedy_ms, "build": result.build_ms, "solve": result.solve_ms}
    if not result.found:
        note = "CP-SAT found no plan before the deadline; greedy plan"
        return _Outcome(start, "fallback", "greedy", None, None, note, ms)
    status: Status = "optimal" if result.optimal else "feasible"
    note = f"CP-SAT on {instance.groups.size} groups, {result.variables} variables"
    if not result.optimal:
        note += ", stopped at the deadline"
    return _Outcome(
        result.assignment,
        status,
        "cpsat",
        result.bound_milli,
        result.unassigned_bound,
        note,
        ms,
    )


def _run(instance: Instance, mode: Mode, seconds: float, workers: int) -> _Outcome:
    try:
        if mode == "flow":
            return _by_flow(instance)
        return _by_cpsat(instance, seconds, workers)
    except Exception as error:  # a solver failure still yields a feasible plan
        log.exception("slots: %s solve failed", mode)
        return _fallback(instance, f"{mode} failed ({error}); greedy plan")


def _message(outcome: _Outcome, unassigned: int, people: int) -> str:
    if outcome.status == "failed":
        return f"No plan could be made ({outcome.note}); everyone is left unassigned."
    if unassigned:
        if outcome.unassigned_bound == unassigned:
            proved = "proved minimal"
        elif not outcome.unassigned_bound:
            proved = "not proved minimal"
        else:
            proved = f"not proved minimal, at least {outcome.unassigned_bound} must be"
        head = (
            f"Capacity cannot hold everyone: {unassigned} of {people} people left "
            f"unassigned ({proved})."
        )
    else:
        head = f"All {people} people placed."
    return f"{head} {outcome.note[:1].upper()}{outcome.note[1:]}."


def solve(
    problem: SlotsProblem, deadline_s: float, mode: str | None = None, workers: int = 8
) -> SlotsSolution:
    """The best plan found within `deadline_s` seconds (the flow is never cut short)."""
    started = perf_counter()
    chosen = choose_mode(problem, mode)
    instance = build_instance(problem)
    grouped = perf_counter()
    outcome = _run(instance, chosen, deadline_s - (grouped - started), workers)
    reported = perf_counter()
    units = spread_units(instance, outcome.assignment)
    kpis, before, after = compute_kpis(instance, outcome.assignment, problem.slot_minutes)
    assignments = named_assignments(problem, instance, units)
    classes = people_classes(instance, outcome.assignment)
    slots_of_people = people_slots(instance, units)
    names = instance.resource_ids
    loads_before = {r: before[i].round(6).tolist() for i, r in enumerate(names)}
    loads_after = {r: after[i].round(6).tolist() for i, r in enumerate(names)}
    finished = perf_counter()
    stage_ms = {"group": (grouped - started) * 1000, **outcome.stage_ms}
    stage_ms["report"] = (finished - reported) * 1000
    bound = None if outcome.bound_milli is None else outcome.bound_milli / WEIGHT_SCALE
    # Built from validated parts; model_construct skips re-validating a million slots.
    return SlotsSolution.model_construct(
        status=outcome.status,
        mode=outcome.method,
        objective=outcome.assignment.weighted_shift(instance),
        best_bound=bound,
        unassigned_bound=outcome.unassigned_bound,
        fallback=outcome.status == "fallback",
        message=_message(outcome, kpis.people_unassigned, kpis.people),
        solve_ms=round((finished - started) * 1000, 3),
        stage_ms={name: round(ms, 3) for name, ms in stage_ms.items()},
        distinct_groups=instance.groups.size,
        kpis=kpis,
        assignments=assignments,
        people_classes=classes,
        people_slots=slots_of_people,
        load_before=loads_before,
        load_after=loads_after,
    )
