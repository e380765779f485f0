"""Random energy problems with whole numbers, and their deliverable optimum by max-flow."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from optimiser.energy import EnergyProblem


def random_problem(
    seed: int, sessions: int = 25, feeders: int = 2, slots: int = 24, tightness: float = 0.5
) -> EnergyProblem:
    """Hourly slots and integer kW and kWh, so the max-flow optimum is exact in integers.
    `tightness` scales feeder headroom against demand (small: most cannot be served)."""
    rng = np.random.default_rng(seed)
    arrival = rng.integers(0, slots - 2, sessions)
    departure = np.minimum(arrival + rng.integers(2, 12, sessions), slots)
    power = rng.choice([3, 7, 11, 22], sessions)
    energy = rng.integers(1, 60, sessions)
    feeder = rng.integers(0, feeders, sessions)
    specs = []
    for k in range(feeders):
        demand = energy[feeder == k].sum() / slots
        base = rng.integers(5, 40, slots)
        pv = np.where((np.arange(slots) % 24 >= 9) & (np.arange(slots) % 24 < 16), 8, 0)
        limit = int(base.max() * 0.9 + max(1, round(demand * tightness * 2)))
        specs.append(
            {
                "id": f"F{k}",
                "limit_kw": limit,
                "base_load_kw": base.tolist(),
                "pv_kw": pv.tolist(),
            }
        )
    return EnergyProblem.model_validate(
        {
            "slot_minutes": 60,
            "horizon_slots": slots,
            "feeders": specs,
            "sessions": [
                {
                    "id": f"S{i}",
                    "feeder": f"F{feeder[i]}",
                    "arrival_slot": int(arrival[i]),
                    "departure_slot": int(departure[i]),
                    "energy_kwh": int(energy[i]),
                    "max_power_kw": int(power[i]),
                }
                for i in range(sessions)
            ],
        }
    )


def max_deliverable_kwh(problem: EnergyProblem) -> float:
    """Max-flow: source → session (requested) → feeder-slot in its window (max power × slot)
    → sink (feeder headroom × slot). Whole numbers only (hourly slots, integer kW/kWh)."""
    assert problem.slot_minutes == 60, "integer max-flow needs hourly slots"
    slots = problem.horizon_slots
    feeders = {f.id: k for k, f in enumerate(problem.feeders)}
    n_sessions = len(problem.sessions)
    source, sink = 0, 1
    first_session, first_feeder_slot = 2, 2 + n_sessions

    def node(feeder: int, slot: int) -> int:
        return first_feeder_slot + feeder * slots + slot

    arcs: dict[tuple[int, int], int] = {}
    for i, s in enumerate(problem.sessions):
        arcs[(source, first_session + i)] = int(s.energy_kwh)
        for t in range(s.arrival_slot, s.departure_slot):
            arcs[(first_session + i, node(feeders[s.feeder], t))] = int(s.max_power_kw)
    for k, f in enumerate(problem.feeders):
        limit, base, pv = (np.broadcast_to(v, slots) for v in (f.limit_kw, f.base_load_kw, f.pv_kw))
        for t in range(slots):
            headroom = max(0, int(limit[t] - base[t] + pv[t]))
            arcs[(node(k, t), sink)] = headroom
    size = first_feeder_slot + len(feeders) * slots
    rows, cols = zip(*arcs, strict=True)
    graph = csr_matrix((list(arcs.values()), (rows, cols)), shape=(size, size), dtype=np.int32)
    return float(maximum_flow(graph, source, sink).flow_value)
