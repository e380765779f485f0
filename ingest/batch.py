"""A batch of received messages, flushed on size or age, whichever comes first."""

from __future__ import annotations

import bisect
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
    acks: list[int] = field(default_factory=list)
    """Message ids to acknowledge once written, in arrival order (QoS 0 has none)."""
    sources: list[tuple[int, str, bytes]] = field(default_factory=list)
    """(index of its first reading, topic, payload) of each message that gave readings:
    what a dead letter keeps if the store refuses one of them."""
    received: int = 0
    started: float = 0.0

    def add(
        self,
        readings: list[Reading],
        rejection: Rejection | None,
        ack: int | None,
        topic: str = "",
        payload: bytes = b"",
    ) -> None:
        if not self.received:
            self.started = time.monotonic()
        self.received += 1
        if readings:
            self.sources.append((len(self.readings), topic, payload))
            self.readings.extend(readings)
        if rejection is not None:
            self.rejections.append(rejection)
        if ack is not None:
            self.acks.append(ack)

    def source_of(self, index: int) -> int:
        """Index in `sources` of the message that gave readings[index]."""
        return bisect.bisect_right(self.sources, index, key=_first_reading) - 1

    def absorb(self, earlier: Batch) -> None:
        """Take back an earlier batch whose write failed: it goes first, and its age counts."""
        shift = len(earlier.readings)
        self.sources[:] = earlier.sources + [(i + shift, t, p) for i, t, p in self.sources]
        self.readings[:0] = earlier.readings
        self.rejections[:0] = earlier.rejections
        self.acks[:0] = earlier.acks
        self.started = min(self.started, earlier.started) if self.received else earlier.started
        self.received += earlier.received

    def __len__(self) -> int:
        return self.received

    def due(self, now: float | None = None) -> bool:
        if not self.received:
            return False
        if self.received >= self.max_size:
            return True
        return ((time.monotonic() if now is None else now) - self.started) >= self.max_age_s

    def clear(self) -> None:
        self.readings.clear()
        self.rejections.clear()
        self.acks.clear()
        self.sources.clear()
        self.received = 0


def _first_reading(source: tuple[int, str, bytes]) -> int:
    return source[0]
