"""The online replay against the offline optimum, itself checked by max-flow."""

from __future__ import annotations

import numpy as np
import pytest

from optimiser.energy.replay import ReplaySessions, offline_problem, replay
from tests.optimiser.energy.instances import max_deliverable_kwh


def hourly(sessions: list[tuple[int, int, float, float]], slots: int = 8) -> ReplaySessions:
    return ReplaySessions.model_validate(
        {
            "slot_minutes": 60,
            "horizon_slots": slots,
            "sessions": [
                {
                    "id": f"s{i}",
                    "feeder": "F",
                    "arrival_slot": a,
                    "departure_slot": d,
                    "energy_kwh": e,
                    "max_power_kw": p,
                }
                for i, (a, d, e, p) in enumerate(sessions)
            ],
        }
    )


def test_online_keeps_room_for_a_vehicle_it_cannot_see_yet() -> None:
    # 'a' could charge any time in 8 h; 'b' arrives at 4 and needs the whole feeder for
    # 2 h. Only charging 'a' as early as possible (unknowingly) leaves that room.
    report = replay(hourly([(0, 8, 40, 10), (4, 6, 20, 10)]), limit_kw=10)
    assert report["offline"]["delivered_kwh"] == pytest.approx(60)
    assert report["online"]["delivered_kwh"] == pytest.approx(60)
    assert report["online"]["served_pct"] == 100


def random_sessions(seed: int, count: int = 40, slots: int = 24) -> ReplaySessions:
    rng = np.random.default_rng(seed)
    arrival = rng.integers(0, slots - 1, count)
    departure = np.minimum(arrival + rng.integers(1, 10, count), slots)
    power = rng.choice([4, 7, 11, 22], count)
    energy = np.minimum(rng.integers(2, 50, count), power * (departure - arrival))
    return hourly(
        [
            (int(a), int(d), int(e), int(p))
            for a, d, e, p in zip(arrival, departure, energy, power, strict=True)
        ],
        slots,
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("servable", [0.6, 0.8, 1.0])
def test_online_reaches_the_offline_optimum(seed: int, servable: float) -> None:
    sessions = random_sessions(seed)
    requested = sum(s.energy_kwh for s in sessions.sessions)
    limit = _limit_serving(sessions, servable * requested)
    report = replay(sessions, limit)
    offline_optimum = max_deliverable_kwh(offline_problem(sessions, limit))
    assert report["offline"]["delivered_kwh"] == pytest.approx(offline_optimum, rel=1e-6)
    assert report["online"]["delivered_kwh"] <= offline_optimum + 1e-6
    assert report["online"]["delivered_kwh"] >= 0.999 * offline_optimum


def _limit_serving(sessions: ReplaySessions, energy: float) -> int:
    """The smallest whole-kW limit at which the offline optimum serves `energy`."""
    low, high = 1, 2000
    while low < high:
        middle = (low + high) // 2
        if max_deliverable_kwh(offline_problem(sessions, middle)) >= energy - 1e-9:
            high = middle
        else:
            low = middle + 1
    return low
