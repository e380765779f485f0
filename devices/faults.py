"""Faults on demand: a share of messages goes wrong, each fault counted by kind.

A message picked for a fault (probability `share`) gets one fault drawn from the
scenario's mix. Malformed ones replace the reading; a duplicate is the same bytes sent
twice; the stateful ones (stale, reordered, silent, burst) change what the device sends
next. `expected_outcomes()` says what ingest should report for what was injected:
rejections by reason and duplicates, so a test can compare both sides.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from devices.device import Device
from devices.scenario import FaultMix
from territory import topics

Message = tuple[str, bytes]

# Fault kind → the RejectReason ingest gives it; "duplicate" for dedup; None: accepted.
EXPECTED_OUTCOME: dict[str, str | None] = {
    "invalid_json": "invalid_json",
    "wrong_type": "wrong_type",
    "non_finite": "non_finite",
    "missing_attribute": "missing_attribute",
    "absurd_timestamp": "ts_out_of_range",
    "clock_skew": "ts_out_of_range",
    "wrong_device": "device_mismatch",
    "duplicate": "duplicate",
    "stale": None,
    "reordered": None,
    "silent": None,
    "burst": None,
}
ABSURD_TIMESTAMPS = (0, 4_102_444_800, 1e15)  # 1970, 2100, beyond any calendar
EPISODE_PERIODS = (5, 30)  # a silent or offline episode lasts this many periods


@dataclass(slots=True)
class _DeviceFaultState:
    held: Message | None = None  # a reordered message, sent after the next one
    quiet_until: float = 0.0  # silent or offline until this simulated time
    backlog: list[Message] | None = None  # offline: what to flush on reconnection
    last: bytes | None = None  # last good payload, for stale values


@dataclass
class FaultInjector:
    """Decides, per message, whether and how it goes wrong."""

    share: float
    mix: FaultMix
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    suppressed: int = 0  # readings lost to silent devices
    flushed: int = 0  # readings sent late in bursts
    _kinds: list[str] = field(default_factory=list)
    _weights: list[float] = field(default_factory=list)
    _states: dict[str, _DeviceFaultState] = field(default_factory=dict)
    _by_kind: dict[str, list[Device]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"faults: share must be between 0 and 1, not {self.share}")
        weights = self.mix.model_dump()
        self._kinds = [kind for kind, weight in weights.items() if weight > 0]
        self._weights = [weights[kind] for kind in self._kinds]
        if self.share > 0 and not self._kinds:
            raise ValueError("faults: every weight of the scenario's fault mix is 0")

    def register(self, devices: Sequence[Device]) -> None:
        """The devices a message can be misrouted to (same kind, another id)."""
        for device in devices:
            self._by_kind.setdefault(device.kind, []).append(device)

    @property
    def active(self) -> bool:
        return self.share > 0 or bool(self._states)

    def emit(self, device: Device, payload: bytes, t: float, period: float) -> list[Message]:
        """The messages actually sent when `device` has `payload` to send at time t."""
        state = self._states.get(device.device_id)
        if state is not None and state.quiet_until:
            sent = self._while_quiet(device, state, payload, t)
            if sent is not None:
                return sent
        if self.share <= 0 or self.rng.random() >= self.share:
            return self._plain(device, state, payload)
        kind = self.rng.choices(self._kinds, self._weights)[0]
        return self._inject(kind, device, payload, t, period)

    def _plain(
        self, device: Device, state: _DeviceFaultState | None, payload: bytes
    ) -> list[Message]:
        sent = [(device.topic, payload)]
        if state is not None:
            if state.held is not None:
                sent.append(state.held)
                state.held = None
            state.last = payload
        elif self.mix.stale > 0 and self.share > 0:
            self._state(device).last = payload
        return sent

    def _while_quiet(
        self, device: Device, state: _DeviceFaultState, payload: bytes, t: float
    ) -> list[Message] | None:
        if t < state.quiet_until:
            if state.backlog is None:
                self.suppressed += 1
            else:
                state.backlog.append((device.topic, payload))
            return []
        state.quiet_until = 0.0
        if state.backlog is None:
            return None
        flushed, state.backlog = state.backlog, None
        self.flushed += len(flushed)
        return [*flushed, (device.topic, payload)]

    def _state(self, device: Device) -> _DeviceFaultState:
        return self._states.setdefault(device.device_id, _DeviceFaultState())

    def _inject(
        self, kind: str, device: Device, payload: bytes, t: float, period: float
    ) -> list[Message]:
        topic = device.topic
        if kind == "duplicate":
            self.injected[kind] += 1
            return [(topic, payload), (topic, payload)]
        if kind in ("silent", "burst", "reordered", "stale"):
            return self._stateful(kind, device, payload, t, period)
        if kind == "wrong_device":
            others = [d for d in self._by_kind.get(device.kind, ()) if d is not device]
            if not others:
                return [(topic, payload)]
            self.injected[kind] += 1
            other = others[int(self.rng.random() * len(others))]
            return [(topics.telemetry(other.zone, other.kind, other.device_id), payload)]
        self.injected[kind] += 1
        return [(topic, malform(kind, payload, self.rng))]

    def _stateful(
        self, kind: str, device: Device, payload: bytes, t: float, period: float
    ) -> list[Message]:
        state = self._state(device)
        if kind == "stale":
            if state.last is None:
                state.last = payload
                return [(device.topic, payload)]
            self.injected[kind] += 1
            return [(device.topic, restamp(state.last, payload))]
        if kind == "reordered":
            if state.held is not None:
                return self._plain(device, state, payload)
            self.injected[kind] += 1
            state.held = (device.topic, payload)
            return []
        self.injected[kind] += 1
        state.quiet_until = t + period * self.rng.randint(*EPISODE_PERIODS)
        if kind == "burst":
            state.backlog = [(device.topic, payload)]
            return []
        self.suppressed += 1
        return []

    def expected_outcomes(self) -> Counter[str]:
        """What ingest should count for the faults injected so far, by reason."""
        outcomes: Counter[str] = Counter()
        for kind, count in self.injected.items():
            outcome = EXPECTED_OUTCOME[kind]
            if outcome is not None:
                outcomes[outcome] += count
        return outcomes


def malform(kind: str, payload: bytes, rng: random.Random) -> bytes:
    """The payload with one malformation of this kind."""
    if kind == "invalid_json":
        return payload[: max(1, len(payload) // 2)]
    document = json.loads(payload)
    attributes = [name for name in document if name not in ("ts", "seq", "id")]
    numeric = [name for name in attributes if isinstance(document[name], int | float)]
    if kind == "wrong_type":
        document[numeric[0]] = str(document[numeric[0]])
    elif kind == "non_finite":
        document[numeric[0]] = float("nan")
    elif kind == "missing_attribute":
        del document[attributes[0]]
    elif kind in ("absurd_timestamp", "clock_skew"):
        skew = rng.uniform(1.0, 6.0) * 3600.0
        document["ts"] = (
            rng.choice(ABSURD_TIMESTAMPS) if kind == "absurd_timestamp" else document["ts"] + skew
        )
    else:
        raise ValueError(f"unknown malformation {kind!r}")
    return json.dumps(document, separators=(",", ":")).encode()


def restamp(old: bytes, new: bytes) -> bytes:
    """The old payload's values under the new payload's ts and seq (a stale reading)."""
    document = json.loads(old)
    fresh = json.loads(new)
    document["ts"], document["seq"] = fresh["ts"], fresh["seq"]
    return json.dumps(document, separators=(",", ":")).encode()
