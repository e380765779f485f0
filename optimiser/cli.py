"""`territory optimise`: the timer, and the offline `solve` and `replay` entry points.

Heavy imports (OR-Tools, scipy) stay inside the commands so `territory --help` is fast.
"""

from __future__ import annotations

import json
import signal
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Any

import typer

from territory.logs import configure_logging
from territory.settings import load_settings

optimise_app = typer.Typer(
    help="Run the optimiser on a timer, or solve and replay problem files.",
    invoke_without_command=True,
)


class DomainName(StrEnum):
    mobility = "mobility"
    energy = "energy"
    slots = "slots"


@optimise_app.callback(invoke_without_command=True)
def optimise(
    ctx: typer.Context,
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Broker URL, mqtt://host:port[?protocol=3.1.1] or mqtts://host:port"
    ),
    mqtt_auth: Path | None = typer.Option(
        None, "--mqtt-auth", help="Account file (territory secure init): user, password, CA."
    ),
    store: str | None = typer.Option(
        None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB"
    ),
    every: str | None = typer.Option(
        None, "--every", help="Time between ticks: 30s, 60s, 5m, 15m or plain seconds."
    ),
    deadline: str | None = typer.Option(
        None, "--deadline", help="Solve deadline per tick (default: half the tick, at most 2m)."
    ),
    inventory: Path | None = typer.Option(
        None,
        "--inventory",
        help="Inventory (or scenario) whose limits every plan keeps to (default: settings).",
    ),
    once: bool = typer.Option(False, "--once", help="Run a single tick and exit."),
    domain: list[DomainName] | None = typer.Option(
        None, "--domain", help="Only this domain (repeatable); default every live domain."
    ),
) -> None:
    """Every tick: read the live state, solve, publish commands and plans, store plans."""
    if ctx.invoked_subcommand is not None:
        return
    from optimiser.runner import parse_duration
    from optimiser.timer import build_runner
    from territory.bus import BrokerAddress

    configure_logging("optimiser", load_settings().log_format)
    settings = load_settings()
    if inventory is not None:
        settings = settings.model_copy(update={"inventory_file": inventory})
    try:
        every_s = parse_duration(every) if every else settings.optimiser.every_s
        deadline_s = parse_duration(deadline) if deadline else None
        runner = build_runner(
            BrokerAddress.from_url(mqtt or settings.mqtt_url, mqtt_auth or settings.mqtt_auth_file),
            store or settings.store_url,
            every_s,
            deadline_s,
            settings,
            only=[name.value for name in domain or []],
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if once:
        runner.tick()
        runner.close()
        return
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    runner.run(stop)


@optimise_app.command("solve")
def solve_command(
    domain: DomainName = typer.Argument(..., help="mobility, energy or slots."),
    problem: Path = typer.Argument(..., help="Problem file (JSON), see docs/optimiser.md."),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Seconds the solver may take."),
    mode: str | None = typer.Option(None, "--mode", help="Domain-specific solving mode."),
) -> None:
    """Solve a problem file; print the solution (status, objective, decisions, KPIs, bound)."""
    solution = _solve(domain, problem, time_limit, mode)
    typer.echo(json.dumps(solution, indent=1))


@optimise_app.command("replay")
def replay_command(
    domain: DomainName = typer.Argument(..., help="energy (the only domain replayed so far)."),
    sessions: Path = typer.Argument(..., help="Sessions file (JSON), see docs/optimiser.md."),
    limit_kw: float = typer.Option(..., "--limit-kw", help="Limit of every feeder, kW."),
    mode: str = typer.Option(
        "headroom", "--mode", help="Objective solved each slot: headroom, cost or greedy."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Replay sessions online (re-solved every slot) against the offline optimum."""
    if domain is not DomainName.energy:
        _fail(f"replay: only energy can be replayed, not {domain.value}")
    from optimiser.energy.replay import format_report, load_sessions, replay

    report = _guard(lambda: replay(load_sessions(sessions), limit_kw, mode))
    typer.echo(json.dumps(report, indent=1) if json_output else format_report(report))


def _solve(domain: DomainName, problem: Path, time_limit: float, mode: str | None) -> Any:
    if domain is DomainName.energy:
        from optimiser.energy import solve_file
    else:
        try:
            module = __import__(f"optimiser.{domain.value}", fromlist=["solve_file"])
            solve_file = module.solve_file
        except (ImportError, AttributeError):
            _fail(f"solve: the {domain.value} optimiser is not installed in this build")
    return _guard(lambda: solve_file(problem, time_limit, mode))


def _guard(action: Any) -> Any:
    """Run `action`; a malformed problem becomes a clear message and exit code 2."""
    from pydantic import ValidationError

    from optimiser.errors import ProblemError
    from territory import documents

    try:
        return action()
    except ProblemError as exc:
        _fail(f"invalid problem: {exc}")
    except ValidationError as exc:
        _fail(f"invalid problem: {documents.describe(exc)}")
    except FileNotFoundError as exc:
        _fail(f"no such file: {exc.filename}")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
