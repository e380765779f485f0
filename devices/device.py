"""What every simulated device has: an identity, a topic, a period and a sequence counter."""

from __future__ import annotations

from dataclasses import dataclass, field

from territory import topics


@dataclass(slots=True, kw_only=True)
class Device:
    """A device that publishes telemetry on its own topic, with its own sequence numbers."""

    kind: str
    zone: str
    device_id: str
    period: float
    seq: int = 0
    topic: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.topic = topics.telemetry(self.zone, self.kind, self.device_id)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq
