"""An energy problem as numpy arrays, the form the LP, the greedy plan and the KPIs share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.energy.model import EnergyProblem, per_slot


@dataclass(frozen=True)
class EnergyArrays:
    """Feeders × slots and sessions as arrays; session windows are [arrival, departure)."""

    slots: int
    slot_hours: float
    feeder_ids: list[str]
    limit: np.ndarray  # (F, H) kW
    base: np.ndarray  # (F, H) kW
    pv: np.ndarray  # (F, H) kW
    price: np.ndarray  # (H,) per kWh imported
    carbon: np.ndarray | None  # (H,) g/kWh imported, when given
    session_ids: list[str]
    session_feeder: np.ndarray  # (S,) feeder index
    arrival: np.ndarray  # (S,) slot
    departure: np.ndarray  # (S,) slot, exclusive
    energy: np.ndarray  # (S,) kWh requested
    max_power: np.ndarray  # (S,) kW

    @classmethod
    def from_problem(cls, problem: EnergyProblem) -> EnergyArrays:
        n = problem.horizon_slots
        feeder_ids = [f.id for f in problem.feeders]
        index = {fid: k for k, fid in enumerate(feeder_ids)}
        sessions = problem.sessions
        return cls(
            slots=n,
            slot_hours=problem.slot_hours,
            feeder_ids=feeder_ids,
            limit=np.array([per_slot(f.limit_kw, n) for f in problem.feeders]),
            base=np.array([per_slot(f.base_load_kw, n) for f in problem.feeders]),
            pv=np.array([per_slot(f.pv_kw, n) for f in problem.feeders]),
            price=problem.price(),
            carbon=None if problem.carbon is None else per_slot(problem.carbon, n),
            session_ids=[s.id for s in sessions],
            session_feeder=np.array([index[s.feeder] for s in sessions], dtype=np.int64),
            arrival=np.array([s.arrival_slot for s in sessions], dtype=np.int64),
            departure=np.array([s.departure_slot for s in sessions], dtype=np.int64),
            energy=np.array([s.energy_kwh for s in sessions], dtype=float),
            max_power=np.array([s.max_power_kw for s in sessions], dtype=float),
        )

    def feeder(self, k: int) -> tuple[EnergyArrays, np.ndarray]:
        """Feeder k alone with its sessions, and the indexes of those sessions here."""
        mine = np.flatnonzero(self.session_feeder == k)
        one = EnergyArrays(
            slots=self.slots,
            slot_hours=self.slot_hours,
            feeder_ids=[self.feeder_ids[k]],
            limit=self.limit[k : k + 1],
            base=self.base[k : k + 1],
            pv=self.pv[k : k + 1],
            price=self.price,
            carbon=self.carbon,
            session_ids=[self.session_ids[i] for i in mine],
            session_feeder=np.zeros(len(mine), dtype=np.int64),
            arrival=self.arrival[mine],
            departure=self.departure[mine],
            energy=self.energy[mine],
            max_power=self.max_power[mine],
        )
        return one, mine

    @property
    def headroom(self) -> np.ndarray:
        """(F, H) kW the flexible loads may add before a feeder reaches its limit (never < 0)."""
        return np.maximum(self.limit - self.base + self.pv, 0.0)

    @property
    def window(self) -> np.ndarray:
        """(S, H) True where a session is plugged."""
        t = np.arange(self.slots)
        return (t >= self.arrival[:, None]) & (t < self.departure[:, None])

    def feeder_sum(self, power: np.ndarray) -> np.ndarray:
        """(S, H) session power summed onto (F, H) feeders."""
        total = np.zeros((len(self.feeder_ids), self.slots))
        np.add.at(total, self.session_feeder, power)
        return total

    def deliverable_bound(self) -> np.ndarray:
        """(S,) the most each session could take on its own: min(request, window × power)."""
        hours = (self.departure - self.arrival) * self.slot_hours
        return np.minimum(self.energy, hours * self.max_power)
