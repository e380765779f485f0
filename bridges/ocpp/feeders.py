"""Keeping feeders within their limits: the floor of safety and the reflex.

The floor: every charge point holds a max profile that survives the bridge, the broker and
the optimiser. A feeder's EV allowance (its inventory limit less the highest base load
seen lately) is shared among its connectors: a connector the plan gives a set-point keeps
that much, and what the plan leaves is shared by every connector, up to its max power.
The shares are revised when a plan arrives and when the base load climbs.

The base load is the feeder head meter's reading less what our connectors drew *at the
time of that reading*: each connector's reported draw is kept by the time the charger
gave it (`DrawHistory`), so that a feeder reading is never paired with a draw reported
after it (a vehicle that left since would count as base load for the window's length),
and a feeder reading taken after a connector's limit rose, before it said what it draws
now, is no sample at all (its new draw would count as base load the same way).

The reflex: a feeder reading above the limit gets corrective limits on its connectors at
once, without waiting for the optimiser: the EV allowance left by the base load, shared in
proportion to what each connector draws now.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from bridges.ocpp.registry import FeederEntry

BASE_WINDOW_S = 3600.0  # how long a high base load is remembered by the floor
DRAW_HISTORY_S = 900.0  # how far back a connector's draws are kept for late feeder readings


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


@dataclass
class DrawHistory:
    """What one connector reported drawing, by the time of each reading (the charger's own
    clock), and when its limit may have risen: what pairs it with a feeder reading."""

    keep_s: float = DRAW_HISTORY_S
    seen: deque[tuple[float, float]] = field(default_factory=deque)
    raised: deque[float] = field(default_factory=deque)  # when the profiles held rose
    held: dict[str, float] = field(default_factory=dict)  # profile purpose → kW accepted
    ends: dict[str, float] = field(default_factory=dict)  # profile purpose → when it lapses

    def add(self, ts: float, kw: float) -> None:
        while self.seen and self.seen[-1][0] > ts:
            self.seen.pop()  # a charger's clock that went back: its newer past is void
        self.seen.append((ts, kw))
        # The oldest reading kept is the one in force `keep_s` ago.
        while len(self.seen) > 1 and self.seen[1][0] <= ts - self.keep_s:
            self.seen.popleft()

    def accepted(self, purpose: str, kw: float, at: float, end: float | None) -> None:
        """The charger holds a new profile from `at` (lapsing at `end`): the vehicle may draw
        more from then if its ceiling rose, and from a lapse that raised it."""
        lapsed = self.ends.get(purpose)
        if lapsed is not None and lapsed <= at and self._lapse_raises(lapsed):
            self.raised.append(lapsed)
        before = self.ceiling(at)
        self.held[purpose] = kw
        self.ends.pop(purpose, None)
        if end is not None:
            self.ends[purpose] = end
        if self.ceiling(at) > before:
            self.raised.append(at)
        while self.raised and self.raised[0] < at - self.keep_s:
            self.raised.popleft()

    def ceiling(self, t: float) -> float:
        """The most the profiles it holds let the connector draw at `t`, kW: the station's
        max profile, and its Tx profile (or else its TxDefault) while it has not lapsed."""
        live = {p: kw for p, kw in self.held.items() if self.ends.get(p, math.inf) > t}
        own = live.get("tx", live.get("tx_default", math.inf))
        return min(live.get("max", math.inf), own)

    def _lapse_raises(self, end: float) -> bool:
        return self.ceiling(end) > self.ceiling(end - 1e-3)

    def at(self, ts: float) -> float:
        """The draw reported last at or before `ts`. Before the first reading (a bridge
        just started, a charger just connected), what the charger said first; 0 when it
        never said anything (a draw the bridge cannot know counts as base load)."""
        if not self.seen:
            return 0.0
        first = self.seen[0][0]
        drawn = self.seen[0][1]
        for when, kw in self.seen:
            if when > max(ts, first):
                break
            drawn = kw
        return drawn

    def unsure_at(self, ts: float, grace_s: float) -> bool:
        """Its limit rose after its last reading before `ts`, less than `grace_s` before
        `ts`: the vehicle may draw more than it said, and the charger will say so soon."""
        last = max((when for when, _ in self.seen if when <= ts), default=-math.inf)
        lapses = [end for end in self.ends.values() if self._lapse_raises(end)]
        return any(last < rise <= ts and ts - rise <= grace_s for rise in [*self.raised, *lapses])


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
