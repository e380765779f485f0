"""The optimiser's timer: each tick reads the live state, solves every domain under a
deadline shorter than the tick, publishes commands and plans, and stores the plans.

Ticks never overlap: one thread runs them one after the other, and a tick that runs
late makes the timer skip the slots it missed rather than queue them. A broker or a
store that cannot be reached is logged and tried again on the next tick.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from optimiser.publish import BrokerUnavailable, Publisher
from territory import topics
from territory.bus import BrokerAddress, coerce_address
from territory.store import Plan, Store, StoreRejected, StoreUnavailable, open_store

log = logging.getLogger(__name__)
DEADLINE_SHARE = 0.5  # of the tick, for all domains' solves together
MAX_DEADLINE_S = 120.0


@dataclass(frozen=True)
class Tick:
    """What a domain needs to know about the tick it plans in."""

    now: float  # epoch seconds
    every_s: float
    deadline_s: float  # for this domain's solve
    plan_id: str

    @property
    def valid_until(self) -> float:
        """Commands hold for about two ticks; a charger then falls back to its own safety."""
        return self.now + 2 * self.every_s


@dataclass
class Command:
    topic: str
    payload: dict[str, Any]


@dataclass
class Outcome:
    """A domain's plan for one tick: its status, body (KPIs, decisions) and commands."""

    status: str
    body: dict[str, Any]
    commands: list[Command] = field(default_factory=list)


class Domain(Protocol):
    """One optimisation domain on the timer: build from the store, solve, command."""

    name: str

    def build(self, store: Store, now: float) -> Any | None:
        """The live problem, or None when there is nothing to plan."""
        ...

    def solve(self, problem: Any, tick: Tick) -> Outcome:
        """Solve within tick.deadline_s, always returning a plan that keeps hard limits."""
        ...


def parse_duration(text: str) -> float:
    """'30s', '5m', '15m', '1h' or plain seconds ('60', '0.5') as seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|ms)?\s*", text)
    if not match:
        raise ValueError(f"duration must look like 30s, 5m, 15m, 1h or 60, not {text!r}")
    value = float(match.group(1))
    seconds = value * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


class Runner:
    """Runs the domains tick after tick against one store and one broker."""

    def __init__(
        self,
        broker: str | BrokerAddress,
        store_url: str,
        every_s: float,
        domains: list[Domain],
        deadline_s: float | None = None,
    ) -> None:
        self.store_url = store_url
        self.every_s = every_s
        self.domains = domains
        self.deadline_s = deadline_s or min(every_s * DEADLINE_SHARE, MAX_DEADLINE_S)
        if self.deadline_s >= every_s:
            raise ValueError("the solve deadline must be shorter than the tick")
        self.publisher = Publisher(coerce_address(broker))
        self._store: Store | None = None

    def run(self, stop: threading.Event, max_ticks: int | None = None) -> int:
        """Tick every `every_s` until `stop` is set (or `max_ticks` ran); returns ticks run."""
        ticks = 0
        next_at = time.monotonic()
        try:
            while not stop.is_set() and (max_ticks is None or ticks < max_ticks):
                self.tick()
                ticks += 1
                next_at += self.every_s
                late = time.monotonic() - next_at
                if late > 0:  # skip the ticks we missed instead of running them back to back
                    skipped = int(late // self.every_s) + 1
                    log.warning("tick ran %.1f s late: skipping %d tick(s)", late, skipped)
                    next_at += skipped * self.every_s
                stop.wait(max(0.0, next_at - time.monotonic()))
        finally:
            self.close()
        return ticks

    def tick(self) -> dict[str, Outcome]:
        """One pass over every domain; never raises for an unreachable broker or store."""
        started, now = time.monotonic(), time.time()
        outcomes: dict[str, Outcome] = {}
        store = self._open_store()
        if store is None:
            return outcomes
        for position, domain in enumerate(self.domains):
            left = self.deadline_s - (time.monotonic() - started)
            share = max(left / (len(self.domains) - position), 0.0)
            tick = Tick(now, self.every_s, share, f"{domain.name}-{int(now * 1000)}")
            outcome = self._plan(domain, store, tick)
            if outcome is not None:
                outcomes[domain.name] = outcome
                self._deliver(domain.name, tick, outcome, store)
        return outcomes

    def close(self) -> None:
        self.publisher.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    def _open_store(self) -> Store | None:
        if self._store is None:
            try:
                self._store = open_store(self.store_url)
            except (StoreUnavailable, OSError, ValueError) as exc:
                log.error("store %s unavailable, retrying next tick: %s", self.store_url, exc)
        return self._store

    def _plan(self, domain: Domain, store: Store, tick: Tick) -> Outcome | None:
        try:
            problem = domain.build(store, tick.now)
            if problem is None:
                log.info("%s: nothing to plan", domain.name)
                return None
            return domain.solve(problem, tick)
        except StoreUnavailable as exc:
            log.error("%s: store unavailable, retrying next tick: %s", domain.name, exc)
            self._drop_store()
        except Exception:  # a bad live problem must not stop the other domains or the timer
            log.exception("%s: planning failed this tick", domain.name)
        return None

    def _deliver(self, name: str, tick: Tick, outcome: Outcome, store: Store) -> None:
        body = {"plan": tick.plan_id, **outcome.body}
        plan = Plan(domain=name, created=tick.now, status=outcome.status, body=body)
        try:
            store.write_plan(plan)
        except StoreUnavailable as exc:
            log.error("%s: plan not stored, store unavailable: %s", name, exc)
            self._drop_store()
        except StoreRejected as exc:  # the store is up: the plan is still published
            log.error("%s: plan not stored, the store refused it: %s", name, exc)
        try:
            for command in outcome.commands:
                self.publisher.publish(command.topic, command.payload)
            self.publisher.publish(topics.plan(name), plan.model_dump())
            self.publisher.flush()
        except BrokerUnavailable as exc:
            log.error("%s: commands and plan not published, retrying next tick: %s", name, exc)
            self.publisher.close()
            return
        log.info(
            "%s: %s plan %s, %d command(s), solved in %.0f ms",
            name,
            outcome.status,
            tick.plan_id,
            len(outcome.commands),
            float(outcome.body.get("solve_ms", 0.0)),
        )

    def _drop_store(self) -> None:
        if self._store is not None:
            try:
                self._store.close()
            except Exception:  # closing a broken store may fail too; we reopen next tick
                log.debug("closing the store failed", exc_info=True)
            self._store = None
