"""A batch of received messages, flushed on size or age, whichever comes first."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from territory.readings import Reading, Rejection


@dataclass(slots=True)
class Batch:
    """Messages received since the last durable write, with what must be acknowledged."""

    max_size: int
    max_age_s: float
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    acks: list[tuple[int, int]] = field(default_factory=list)  # (mid, qos) in arrival order
    started: float = 0.0

    def add(self, readings: list[Reading], rejection: Rejection | None, mid: int, qos: int) -> None:
        if not self.acks:
            self.started = time.monotonic()
        self.readings.extend(readings)
        if rejection is not None:
            self.rejections.append(rejection)
        self.acks.append((mid, qos))

    def __len__(self) -> int:
        return len(self.acks)

    def due(self, now: float | None = None) -> bool:
        if not self.acks:
            return False
        if len(self.acks) >= self.max_size:
            return True
        return ((time.monotonic() if now is None else now) - self.started) >= self.max_age_s

    def clear(self) -> None:
        self.readings.clear()
        self.rejections.clear()
        self.acks.clear()
