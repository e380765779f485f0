"""Clocks: simulated time for the twin's dynamics, stamps for the payloads.

The twin advances in *simulated* time (it drives the daily shapes). Payloads carry a
*stamp*: the epoch seconds a reading is dated with. The two are tied by the clock:

- `RealClock(speed)`: the simulated day runs `speed` times faster than the wall clock,
  starting at the wall-clock time of day; a reading is stamped with the wall-clock
  instant at which it falls due, so stamps stay inside ingest's window at any speed.
- `VirtualClock`: time only moves when the simulator sleeps (tests, compare runs);
  simulated time and stamps are the same numbers, and nothing waits unless `speed`
  paces it against the wall clock.

Both are deterministic functions of their start and of the simulator's sleeps, which
is what makes a seeded run repeatable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

Wait = Callable[[float], object]  # waits up to that many real seconds (stop.wait, a poll)

MAX_WAIT_S = 0.1  # longest real wait, so commands and stop requests are seen promptly


class Clock(Protocol):
    free_running: bool  # True when waiting costs nothing: the loop may jump ahead

    def sim_now(self) -> float:
        """The simulated time now, epoch seconds."""
        ...

    def stamp(self, sim_t: float) -> float:
        """Epoch seconds a reading due at simulated time `sim_t` is dated with."""
        ...

    def to_sim(self, stamp: float) -> float:
        """The simulated time of a stamped instant (a command's valid_until, ...)."""
        ...

    def sleep_until(self, sim_t: float, wait: Wait) -> None:
        """Wait towards simulated time `sim_t`, through `wait(seconds)`, at most MAX_WAIT_S
        of real time at once; the caller loops."""
        ...


class RealClock:
    """Simulated time runs `speed` times faster than the wall clock from `start`."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self.free_running = False
        self.wall_start = time.time()
        self.sim_start = self.wall_start if start is None else start

    def sim_now(self) -> float:
        return self.sim_start + (time.time() - self.wall_start) * self.speed

    def stamp(self, sim_t: float) -> float:
        return self.wall_start + (sim_t - self.sim_start) / self.speed

    def to_sim(self, stamp: float) -> float:
        return self.sim_start + (stamp - self.wall_start) * self.speed

    def sleep_until(self, sim_t: float, wait: Wait) -> None:
        seconds = self.stamp(sim_t) - time.time()
        if seconds > 0:
            wait(min(seconds, MAX_WAIT_S))


class VirtualClock:
    """Time that moves only when the simulator sleeps; `speed` (if set) paces it."""

    def __init__(self, start: float, speed: float | None = None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0")
        self.now = start
        self.speed = speed
        self.free_running = speed is None

    def sim_now(self) -> float:
        return self.now

    def stamp(self, sim_t: float) -> float:
        return sim_t

    def to_sim(self, stamp: float) -> float:
        return stamp

    def sleep_until(self, sim_t: float, wait: Wait) -> None:
        if sim_t <= self.now:
            return
        if self.speed is None:
            self.now = sim_t
            return
        seconds = min((sim_t - self.now) / self.speed, MAX_WAIT_S)
        wait(seconds)
        self.now = min(sim_t, self.now + seconds * self.speed)
