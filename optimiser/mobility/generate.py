"""Seeded instance generators for tests, benchmarks and examples.

Static instances: stations spread over a square with a hilly relief; the travel cost is
the road distance in metres plus a climbing penalty, so the matrix is asymmetric yet
(up to rounding) keeps the triangle inequality, like a real road network.
"""

from __future__ import annotations

import numpy as np

from optimiser.mobility.model import (
    DynamicProblem,
    DynamicStation,
    DynamicVan,
    StaticProblem,
    StaticStation,
)

_CLIMB_COST_PER_M = 12.0  # metres of road a climb of one metre costs, in the matrix


def _relief(rng: np.random.Generator, xy: np.ndarray, side_km: float) -> np.ndarray:
    """A smooth height field (metres) sampled at the points: a few random hills."""
    height = np.zeros(len(xy))
    for _ in range(4):
        centre = rng.uniform(0, side_km, 2)
        radius = rng.uniform(0.15, 0.4) * side_km
        height += rng.uniform(20, 60) * np.exp(-np.sum((xy - centre) ** 2, axis=1) / radius**2)
    return height


def travel_costs(rng: np.random.Generator, xy: np.ndarray, side_km: float) -> np.ndarray:
    """Asymmetric integer costs: 1.3 x straight-line metres + a penalty for climbing."""
    height = _relief(rng, xy, side_km)
    metres = 1300.0 * np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    climb = np.maximum(0.0, height[None, :] - height[:, None])
    cost = np.rint(metres + _CLIMB_COST_PER_M * climb).astype(np.int64)
    np.fill_diagonal(cost, 0)
    return cost


def _balance(rng: np.random.Generator, changes: np.ndarray, max_change: int) -> None:
    """Nudge random stations by one until the changes sum to zero (never to zero itself)."""
    while (total := int(changes.sum())) != 0:
        i = int(rng.integers(len(changes)))
        step = -1 if total > 0 else 1
        if changes[i] + step != 0 and abs(changes[i] + step) <= max_change:
            changes[i] += step


def static_instance(
    stations: int,
    seed: int,
    capacity: int = 15,
    max_change: int = 10,
    side_km: float = 10.0,
    fleet_size: int | None = None,
    balanced: bool = True,
) -> StaticProblem:
    """A random night-run instance: changes uniform in [-max_change, max_change] minus 0.

    Balanced instances move as many vehicles in as out (sum of changes 0), as a night run
    between full and empty stations does; unbalanced ones make the depot absorb the rest.
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, side_km, size=(stations + 1, 2))
    xy[0] = side_km / 2 + rng.uniform(-0.1, 0.1, 2) * side_km  # depot near the centre
    changes = rng.integers(1, max_change + 1, size=stations) * rng.choice([-1, 1], size=stations)
    if balanced:
        _balance(rng, changes, max_change)
    cost = travel_costs(rng, xy, side_km)
    return StaticProblem(
        van_capacity=capacity,
        fleet_size=fleet_size,
        stations=[
            StaticStation(id=f"bs-{i:04d}", change=int(q)) for i, q in enumerate(changes, start=1)
        ],
        travel_cost=cost.tolist(),
    )


def dynamic_instance(
    stations: int,
    vans: int,
    seed: int,
    horizon: int = 16,
    side_km: float = 12.0,
    van_capacity: int = 20,
) -> DynamicProblem:
    """A day-time instance: stations with uneven demand, some heading empty, some full."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, side_km, size=(stations, 2))
    capacity = rng.integers(10, 41, size=stations)
    inventory = np.rint(capacity * rng.uniform(0.0, 1.0, stations)).astype(int)
    # Each station leans towards losing or gaining vehicles; a daily profile shapes the rates.
    base = rng.gamma(2.0, 0.8, size=stations)
    lean = rng.normal(0.0, 0.5, size=stations)
    profile = 1.0 + 0.6 * np.sin(np.linspace(0.0, np.pi, horizon))
    pickups = np.outer(base * np.exp(lean / 2), profile)
    returns = np.outer(base * np.exp(-lean / 2), profile)
    van_xy = rng.uniform(0.0, side_km, size=(vans, 2))
    return DynamicProblem(
        stations=[
            DynamicStation(
                id=f"bs-{i:04d}",
                x=round(float(xy[i, 0]), 3),
                y=round(float(xy[i, 1]), 3),
                capacity=int(capacity[i]),
                inventory=int(inventory[i]),
                pickups=[round(float(v), 3) for v in pickups[i]],
                returns=[round(float(v), 3) for v in returns[i]],
            )
            for i in range(stations)
        ],
        vans=[
            DynamicVan(
                id=f"van-{k:02d}",
                x=round(float(van_xy[k, 0]), 3),
                y=round(float(van_xy[k, 1]), 3),
                capacity=van_capacity,
                load=int(rng.integers(0, van_capacity // 2 + 1)),
                time_available_s=float(rng.choice([7200.0, 10800.0, 14400.0])),
            )
            for k in range(vans)
        ],
    )
