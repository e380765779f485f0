"""The publish loop: advance the twin with its clock, obey commands, stop on request."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices.clock import Clock
from devices.commands import Command, CommandError, parse_command
from devices.twin import Twin

log = logging.getLogger(__name__)

EVENTS_PER_ROUND = 2000
FREE_RUN_CHUNK_S = 60.0  # events taken before looking at commands and the stop flag again
Inbox = Callable[[], Sequence[tuple[str, bytes]]]
Controller = Callable[[], Sequence[Command]]  # called at its instants; returns commands


@dataclass
class Loop:
    """Runs a twin until `until` (simulated time) or until `stop` is set."""

    twin: Twin
    clock: Clock
    stop: threading.Event
    until: float | None = None
    inbox: Inbox | None = None
    controller: Controller | None = None
    control_every_s: float = 60.0
    idle: Callable[[float], None] | None = None  # how to spend a wait (a broker poll)
    bad_commands: int = 0

    def run(self) -> None:
        next_control = self.twin.start
        while not self.stop.is_set():
            self._take_commands()
            if self.clock.free_running:
                self.clock.sleep_until(self._jump_to(next_control), self._wait)
            now = self.clock.sim_now()
            target = now if self.until is None else min(now, self.until)
            if self.controller is not None and next_control <= target:
                # The controller acts at its own instants: the world has reached them first.
                self.twin.run_until(next_control)
                self.twin.t = max(self.twin.t, next_control)
                for command in self.controller():
                    self.twin.apply(command)
                next_control += self.control_every_s
                continue
            if self.twin.run_until(target, limit=EVENTS_PER_ROUND) == EVENTS_PER_ROUND:
                continue
            if self.until is not None and self.twin.next_due() > self.until:
                return
            if not self.clock.free_running:
                self.clock.sleep_until(self._wake(next_control), self._wait)

    def _wait(self, seconds: float) -> None:
        if self.idle is not None:
            self.idle(seconds)
        else:
            self.stop.wait(seconds)

    def _wake(self, next_control: float) -> float:
        """When there is something to do next: an event, a control instant, the end."""
        wake = self.twin.next_due()
        if self.controller is not None:
            wake = min(wake, next_control)
        return wake if self.until is None else min(wake, self.until)

    def _jump_to(self, next_control: float) -> float:
        """How far a free-running clock may jump: an hour of events at most, so that
        commands and the stop flag are still looked at regularly."""
        return min(self._wake(next_control) + FREE_RUN_CHUNK_S, self._bounds(next_control))

    def _bounds(self, next_control: float) -> float:
        bounds = [math.inf if self.until is None else self.until]
        if self.controller is not None:
            bounds.append(next_control)
        return min(bounds)

    def _take_commands(self) -> None:
        if self.inbox is None:
            return
        for topic, payload in self.inbox():
            try:
                commands = parse_command(topic, payload)
            except CommandError as exc:
                self.bad_commands += 1
                log.warning("ignored a command: %s", exc)
                continue
            for command in commands:
                self.twin.apply(command)
