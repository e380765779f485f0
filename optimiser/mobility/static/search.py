"""Iterated local search around the OR-Tools routing solver, for the night run.

Guided local search alone stalls on this problem: the capacity makes the good tours
narrow, and penalised arcs lead it around the same basin. Restarts from a perturbed best
solution escape it. The perturbation lifts a random stretch of 3 to 15 stops out of its
route into a route of its own (or cuts routes at random points): always feasible, as
any stretch of a feasible route is a feasible route on its own (the start load being
free), and the descent that follows puts the pieces back in another order. A restart is kept when it does not make the solution worse; the search stops early
after many restarts in a row without a strict improvement (small instances).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from optimiser.mobility.routes import total_cost
from optimiser.mobility.static.routing import RoutingConfig, RoutingModel

GLS = RoutingConfig(first_solution="PATH_CHEAPEST_ARC", metaheuristic="GUIDED_LOCAL_SEARCH")
# Descents look at the nearest fifth of the nodes only: several times faster, as good.
DESCENT = RoutingConfig(
    first_solution="PATH_CHEAPEST_ARC", metaheuristic="GREEDY_DESCENT", neighbors_ratio=0.2
)


@dataclass(frozen=True)
class SearchSettings:
    """How the time budget is spent."""

    gls_share: float = 0.3  # of the budget for the initial guided local search
    cuts: tuple[int, ...] = (2, 3, 4)  # how many cuts a perturbation makes (drawn)
    descent_cap_s: float = 2.0  # one descent never runs longer than this
    patience: int = 100  # restarts in a row without a strict improvement before stopping
    perturbation: str = "segment"  # "segment": lift out a stretch; "cut": split at random points
    descent: RoutingConfig = field(default_factory=lambda: DESCENT)


def cut_routes(
    routes: Sequence[Sequence[int]], cuts: int, rng: random.Random, max_routes: int
) -> list[list[int]]:
    """Split routes at `cuts` random points, never exceeding max_routes routes."""
    pieces = [list(r) for r in routes]
    for _ in range(cuts):
        if len(pieces) >= max_routes:
            break
        splittable = [k for k, r in enumerate(pieces) if len(r) >= 2]
        if not splittable:
            break
        k = rng.choice(splittable)
        at = rng.randrange(1, len(pieces[k]))
        pieces[k : k + 1] = [pieces[k][:at], pieces[k][at:]]
    return pieces


def lift_segment(
    routes: Sequence[Sequence[int]], rng: random.Random, max_routes: int
) -> list[list[int]]:
    """Lift a random stretch (3 to 15 stops) out of a route into a route of its own."""
    pieces = [list(r) for r in routes]
    if len(pieces) + 2 > max_routes:
        return cut_routes(pieces, 1, rng, max_routes)
    k = rng.choice([k for k, r in enumerate(pieces) if r])
    route = pieces[k]
    length = min(len(route), rng.randint(3, 15))
    at = rng.randrange(0, len(route) - length + 1)
    head, stretch, tail = route[:at], route[at : at + length], route[at + length :]
    pieces[k : k + 1] = [p for p in (head, stretch, tail) if p]
    return pieces


def iterated_search(
    model: RoutingModel,
    time_limit: float,
    seed: int = 0,
    settings: SearchSettings | None = None,
    start: Sequence[Sequence[int]] | None = None,
) -> tuple[list[list[int]] | None, int]:
    """Best routes found within the time limit (None if none), and the restarts made."""
    settings = settings or SearchSettings()
    began = time.monotonic()
    rng = random.Random(seed)
    best = model.solve(GLS, settings.gls_share * time_limit, start)
    if best is None:
        best = model.solve(GLS, time_limit - (time.monotonic() - began))
    if best is None:
        return None, 0
    best_cost = total_cost(model.cost, best)
    restarts = idle = 0
    while (left := time_limit - (time.monotonic() - began)) > 0.05 and idle < settings.patience:
        if settings.perturbation == "segment":
            pieces = lift_segment(best, rng, model.vehicles)
        else:
            pieces = cut_routes(best, rng.choice(settings.cuts), rng, model.vehicles)
        found = model.solve(settings.descent, min(left, settings.descent_cap_s), pieces)
        restarts += 1
        idle += 1
        if found is None:
            continue
        cost = total_cost(model.cost, found)
        if cost < best_cost:
            idle = 0
        if cost <= best_cost:
            best, best_cost = found, cost
    return best, restarts
