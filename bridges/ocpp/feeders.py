"""Keeping feeders within their limits: the floor of safety and the reflex.

The floor: every charge point holds a max profile that survives the bridge, the broker and
the optimiser. A feeder's EV allowance (its inventory limit less the highest base load
seen lately) is shared among its connectors: a connector the plan gives a set-point keeps
that much, and what the plan leaves is shared by every connector, up to its max power.
The shares are revised when a plan arrives and when the base load climbs.

The reflex: a feeder reading above the limit gets corrective limits on its connectors at
once, without waiting for the optimiser: the EV allowance left by the base load, shared in
proportion to what each connector draws now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from bridges.ocpp.registry import FeederEntry

BASE_WINDOW_S = 3600.0  # how long a high base load is remembered by the floor


@dataclass
class BaseLoad:
    """A feeder's base load (its head meter less our connectors' draw) over a window."""

    window_s: float = BASE_WINDOW_S
    seen: deque[tuple[float, float]] = field(default_factory=deque)

    def add(self, ts: float, kw: float) -> None:
        self.seen.append((ts, kw))
        while self.seen and self.seen[0][0] < ts - self.window_s:
            self.seen.popleft()

    @property
    def peak_kw(self) -> float:
        """The highest base load in the window; 0 before any feeder reading."""
        return max((kw for _, kw in self.seen), default=0.0)


def floor_shares(
    feeder: FeederEntry, base_kw: float, planned: Mapping[str, float]
) -> dict[str, float]:
    """kW each connector of the feeder may draw whatever happens, by device id.

    `planned` holds the set-points in force (device id → kW). Their total is scaled down
    when it exceeds the allowance (a plan made against a lower base load)."""
    allowance = max(feeder.limit_kw - max(base_kw, 0.0), 0.0)
    caps = {c.device_id: c.max_power_kw for c in feeder.connectors}
    shares = {d: min(planned[d], cap) for d, cap in caps.items() if d in planned}
    total = sum(shares.values())
    if total > allowance:
        scale = allowance / total
        return {d: _floor3(shares.get(d, 0.0) * scale) for d in caps}
    left = allowance - total
    # Share what is left by water-filling: connectors at their cap give way to the others.
    room = {d: cap - shares.get(d, 0.0) for d, cap in caps.items()}
    while left > 1e-6:
        open_ = [d for d, r in room.items() if r > 1e-9]
        if not open_:
            break
        each = left / len(open_)
        for device_id in open_:
            given = min(each, room[device_id])
            shares[device_id] = shares.get(device_id, 0.0) + given
            room[device_id] -= given
            left -= given
    return {d: _floor3(shares.get(d, 0.0)) for d in caps}


def reflex_limits(
    feeder: FeederEntry, feeder_kw: float, drawing: Mapping[str, float], margin: float
) -> dict[str, float] | None:
    """Corrective limits (device id → kW) when `feeder_kw` is above the limit; None when not.

    `drawing` is what each of our connectors on the feeder draws now. The base load is the
    rest of the feeder; the connectors share what the limit (less `margin`) leaves of it,
    in proportion to their draw."""
    if feeder_kw <= feeder.limit_kw:
        return None
    ours = sum(max(drawing.get(c.device_id, 0.0), 0.0) for c in feeder.connectors)
    base = feeder_kw - ours
    allowance = max(feeder.limit_kw * (1.0 - margin) - base, 0.0)
    if ours <= 0:
        return {c.device_id: 0.0 for c in feeder.connectors}
    scale = min(allowance / ours, 1.0)
    return {
        c.device_id: _floor3(max(drawing.get(c.device_id, 0.0), 0.0) * scale)
        for c in feeder.connectors
    }


def _floor3(kw: float) -> float:
    """Rounded down to the watt: a share never grows in the rounding."""
    return int(kw * 1000.0) / 1000.0
