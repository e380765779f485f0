"""The optimiser's own live domains as a compare-run policy.

`--policy devices.optimiser_policy:live_domains` puts in the loop exactly what the
optimiser's timer runs: every message the twin publishes reaches the policy's
`telemetry` sink (as the broker would deliver it to ingest), each call writes what
arrived since the last one into a real SQLite store, asks every domain of
`optimiser.timer.live_domains` that is due to build its problem from that store and
solve it, and hands the twin what the runner would publish: each domain's commands
and its plan message (the twin reads slot moves from the slots plan, as over MQTT).

Each domain has its own cadence, as separate timers would: energy re-plans often
(a set-point holds for two of its ticks, then the charger charges flat out again),
while corridor slots and van routes change slowly and are planned less often.

A running optimiser finds days of telemetry in its store, and its forecasts (base load,
station pickups and returns, corridor demand) follow the profile of those days. Before
its first tick the policy therefore fills the store with `history_days` of telemetry
from an uncontrolled twin of the same territory on other days (another seed: history,
not foresight of the day being compared).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from devices.clock import VirtualClock
from devices.commands import SUBSCRIPTIONS, Command, parse_command
from devices.observe import Observation
from devices.policies import Policy, PolicyFactory
from devices.scenario import Scenario
from devices.twin import Twin
from territory import topics
from territory.decode import decode
from territory.readings import Reading
from territory.store import Plan

if TYPE_CHECKING:
    from optimiser.runner import Domain, Outcome, Tick
    from territory.store.sqlite import SqliteStore

ENERGY_EVERY_S = 60.0
PLANS_EVERY_S = 900.0  # corridor slots and van routes
DEADLINE_S = 5.0
HISTORY_SEED = 1_000_003  # the days before the compared one: any seed but the compared one's
# The history stops this long before the first tick: older than any domain takes for the
# present, so no reading of another day passes for the state now.
HISTORY_GAP_S = 1800.0
HISTORY_STEP_S = 900.0  # the history's telemetry is written a quarter of an hour at a time


@dataclass(frozen=True)
class Cadence:
    """How often each domain plans (simulated seconds) and how long each solve may take."""

    every_s: dict[str, float] = field(
        default_factory=lambda: {
            "energy": ENERGY_EVERY_S,
            "slots": PLANS_EVERY_S,
            "mobility": PLANS_EVERY_S,
        }
    )
    deadline_s: dict[str, float] = field(default_factory=dict)
    history_days: float = 1.0

    def every(self, domain: str) -> float:
        return self.every_s.get(domain, ENERGY_EVERY_S)

    def deadline(self, domain: str) -> float:
        return self.deadline_s.get(domain, DEADLINE_S)


def live_domains(scenario: Scenario, cadence: Cadence | None = None) -> LiveDomainsPolicy:
    """A policy running the optimiser timer's domains against a store fed by the twin."""
    return LiveDomainsPolicy(scenario, cadence or Cadence())


def with_cadence(cadence: Cadence) -> PolicyFactory:
    """A policy factory for `live_domains` at another cadence (for tests and benches)."""

    def factory(scenario: Scenario) -> Policy:
        return live_domains(scenario, cadence)

    return factory


class LiveDomainsPolicy:
    """The policy: keeps the store, the domains and when each is next due."""

    def __init__(self, scenario: Scenario, cadence: Cadence) -> None:
        from devices.inventory import scenario_inventory
        from optimiser.timer import live_domains as optimiser_domains
        from territory.settings import load_settings
        from territory.store.sqlite import SqliteStore

        self.scenario = scenario
        self.cadence = cadence
        self.folder = tempfile.TemporaryDirectory(prefix=f"compare-{scenario.name}-")
        self.store: SqliteStore = SqliteStore(Path(self.folder.name) / "observed.db")
        # The domains take every limit and place from an inventory: the one this scenario
        # describes, as a real territory's would be.
        inventory = scenario_inventory(scenario)
        self.domains: list[Domain] = optimiser_domains(load_settings(), inventory)
        self.telemetry = _StoreSink(self.store)  # compare.run_arm forwards every message here
        self.due: dict[str, float] = {}
        self.last_call: float | None = None

    def __call__(self, observation: Observation) -> list[Command]:
        if not self.due:
            self._fill_history(observation.now)
        self.telemetry.flush(arrival=observation.now)
        # Called less often than a domain's cadence, its commands must hold until the next
        # call (a set-point lapses after two ticks).
        gap = 0.0 if self.last_call is None else observation.now - self.last_call
        self.last_call = observation.now
        commands: list[Command] = []
        for domain in self.domains:
            every = max(self.cadence.every(domain.name), gap)
            # A call a little early (the loop's own step) still counts as on time.
            if observation.now < self.due.get(domain.name, -float("inf")) - 1.0:
                continue
            self.due[domain.name] = observation.now + every
            commands += self._plan(domain, observation.now, every)
        return commands

    def _fill_history(self, now: float) -> None:
        """The store as a timer running for `history_days` before `now` would have it."""
        if self.cadence.history_days <= 0:
            return
        begin = now - 86400.0 * self.cadence.history_days
        sink = _StoreSink(self.store)
        twin = Twin(self.scenario, VirtualClock(begin), sink, seed=HISTORY_SEED)
        # Run in steps so that each batch arrives (and is stamped) about when it was sent.
        for end in np.arange(begin, now - HISTORY_GAP_S, HISTORY_STEP_S)[1:]:
            twin.run_until(float(end))
            sink.flush(arrival=float(end))
        twin.run_until(now - HISTORY_GAP_S)
        sink.flush(arrival=now - HISTORY_GAP_S)

    def _plan(self, domain: Domain, now: float, every: float) -> list[Command]:
        from optimiser.runner import Tick

        problem = domain.build(self.store, now)
        if problem is None:
            return []
        deadline = self.cadence.deadline(domain.name)
        tick = Tick(now, every, deadline, f"{domain.name}-{now:.0f}")
        return delivered(domain.name, tick, domain.solve(problem, tick))


def delivered(name: str, tick: Tick, outcome: Outcome) -> list[Command]:
    """The twin's commands in what the runner publishes for one outcome: its commands,
    then its plan message (only the plans the twin subscribes to carry commands)."""
    messages = [(command.topic, command.payload) for command in outcome.commands]
    plan_topic = topics.plan(name)
    if plan_topic in SUBSCRIPTIONS:
        body = {"plan": tick.plan_id, **outcome.body}
        plan = Plan(domain=name, created=tick.now, status=outcome.status, body=body)
        messages.append((plan_topic, plan.model_dump()))
    commands: list[Command] = []
    for topic, payload in messages:
        commands += parse_command(topic, json.dumps(payload).encode())
    return commands


class _StoreSink:
    """Keeps every message published since the last flush; a flush decodes them as ingest
    would (arriving at `arrival`) and writes the accepted readings into the store."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.pending: list[tuple[str, bytes]] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self.pending.append((topic, payload))

    def flush(self, arrival: float) -> None:
        arrival_ns = int(arrival * 1e9)
        readings: list[Reading] = []
        for topic, payload in self.pending:
            readings += decode(topic, payload, arrival_ns=arrival_ns).readings
        self.pending = []
        if readings:
            self.store.write(readings)
