"""Jittered exponential backoff, so a fleet of workers does not retry in lockstep."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Backoff:
    """Equal-jitter exponential backoff: the n-th wait is uniform in [c/2, c], c = min(cap, base·2ⁿ)."""

    base_s: float = 0.2
    cap_s: float = 10.0
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * 2**self.attempts)
        self.attempts += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempts = 0
