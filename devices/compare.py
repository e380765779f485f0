"""`territory simulate --compare`: the same seeded day twice, without and with a policy.

Both runs use a virtual clock from the same start (local midnight by default), the
same seed and so the same demand: the only difference is the policy acting every
`control_every_s`. The ground-truth KPIs of both runs are put side by side.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devices.clock import VirtualClock
from devices.kpis import KPI_DESCRIPTIONS
from devices.observe import ObservingSink, observe
from devices.ocpp_compare import FeederTap, OcppLoop
from devices.policies import PolicyFactory
from devices.scenario import Scenario
from devices.simulator import Loop
from devices.twin import Twin


@dataclass
class Arm:
    """One run of a compare: its KPIs and what it did."""

    kpis: dict[str, float]
    published: int
    commands: dict[str, int]
    rejected_commands: dict[str, int]


@dataclass
class Comparison:
    scenario: str
    seed: int
    start: float
    duration_s: float
    policy: str
    baseline: Arm
    controlled: Arm
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, float, float, str]]:
        found = []
        for name, before in self.baseline.kpis.items():
            after = self.controlled.kpis[name]
            found.append((name, before, after, _change(before, after)))
        return found

    def table(self) -> str:
        header = f"{'KPI (lower is better)':<32} {'without':>12} {'with':>12} {'change':>8}"
        lines = [header, "-" * len(header)]
        for name, before, after, change in self.rows():
            lines.append(f"{name:<32} {before:>12.1f} {after:>12.1f} {change:>8}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "start": self.start,
            "duration_s": self.duration_s,
            "policy": self.policy,
            "kpis": {
                name: {
                    "without": before,
                    "with": after,
                    "change": change,
                    "means": KPI_DESCRIPTIONS[name],
                }
                for name, before, after, change in self.rows()
            },
            "without": self.baseline.__dict__,
            "with": self.controlled.__dict__,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1))


def _change(before: float, after: float) -> str:
    if before == after:
        return "="
    if before == 0:
        return "new"
    return f"{100.0 * (after - before) / before:+.0f}%"


def start_of_day(date: str | None, utc_offset_h: float) -> float:
    """Local midnight of `date` (YYYY-MM-DD), or of today."""
    if date is None:
        return local_midnight(time.time(), utc_offset_h)
    try:
        day = datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"date must look like 2025-06-21, not {date!r}") from exc
    return day.timestamp() - 3600.0 * utc_offset_h


def local_midnight(now: float, utc_offset_h: float) -> float:
    """The latest local midnight at or before `now`."""
    offset = 3600.0 * utc_offset_h
    return math.floor((now + offset) / 86400.0) * 86400.0 - offset


def run_arm(
    scenario: Scenario,
    seed: int,
    start: float,
    duration_s: float,
    factory: PolicyFactory | None,
    control_every_s: float,
    speed: float | None = None,
    stop: threading.Event | None = None,
    ocpp: bool = False,
) -> Arm:
    """One seeded run on a virtual clock, with the policy from `factory` if any; with
    `ocpp`, the policy drives the chargers through a bridge (`devices.ocpp_compare`)."""
    clock = VirtualClock(start, speed)
    policy = factory(scenario) if factory is not None else None
    # A policy with a `telemetry` sink gets every message, as a broker subscriber would.
    sink = ObservingSink(forward=getattr(policy, "telemetry", None))
    tap = FeederTap(sink)
    twin = Twin(scenario, clock, tap, seed=seed)
    over = OcppLoop(twin, seed, sink, tap) if ocpp and policy is not None else None
    controller = None
    if policy is not None:

        def controller() -> list[Any]:
            if over is not None:
                over.quiet()
            commands = list(policy(observe(twin, sink)))
            return over.deliver(commands) if over is not None else commands

    loop = Loop(
        twin,
        clock,
        stop or threading.Event(),
        until=start + duration_s,
        controller=controller,
        control_every_s=control_every_s,
    )
    try:
        with over.clock() if over is not None else contextlib.nullcontext():
            loop.run()
    finally:
        if over is not None:
            over.close()
    return Arm(
        kpis=twin.kpis.as_dict(),
        published=sum(twin.published.values()),
        commands=dict(twin.commands),
        rejected_commands=dict(twin.rejected_commands),
    )


def compare(
    scenario: Scenario,
    seed: int,
    start: float,
    duration_s: float,
    factory: PolicyFactory,
    policy_name: str,
    control_every_s: float = 60.0,
    speed: float | None = None,
    stop: threading.Event | None = None,
    ocpp: bool = False,
) -> Comparison:
    """Without the policy, then with it (its chargers driven over OCPP if `ocpp`)."""
    baseline = run_arm(scenario, seed, start, duration_s, None, control_every_s, speed, stop)
    controlled = run_arm(
        scenario, seed, start, duration_s, factory, control_every_s, speed, stop, ocpp
    )
    notes = ["with: chargers driven over OCPP through a bridge in this process"] if ocpp else []
    return Comparison(
        scenario.name, seed, start, duration_s, policy_name, baseline, controlled, notes
    )
