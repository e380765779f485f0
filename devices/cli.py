"""`territory simulate`: run a scenario's digital twin against a broker, or compare a
seeded day without and with a policy in the loop."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import typer

from devices.live import parse_duration

IN_PROCESS = "in-process"  # --compare --ocpp in-process: a bridge in this process

if TYPE_CHECKING:
    from devices.scenario import Scenario
    from territory.bus import BrokerAddress


def simulate(
    mqtt: str | None = typer.Option(
        None,
        "--mqtt",
        help="Broker URL, mqtt://host:port?protocol=5 or mqtts://host:port (default: settings).",
    ),
    mqtt_auth: Path | None = typer.Option(
        None, "--mqtt-auth", help="Account file (territory secure init): user, password, CA."
    ),
    territory: Path | None = typer.Option(
        None, "--territory", help="Scenario file (default: settings' territory_file)."
    ),
    faults: float = typer.Option(
        0.0, "--faults", min=0.0, max=1.0, help="Share of messages that go wrong (0..1)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same run."),
    speed: float | None = typer.Option(
        None,
        "--speed",
        min=0.001,
        help="Simulated seconds per real second (default 1; --compare: as fast as possible).",
    ),
    duration: str | None = typer.Option(
        None,
        "--duration",
        help="Simulated time to run: 90s, 10m, 24h (default: until stopped; --compare: 24h).",
    ),
    compare: bool = typer.Option(
        False, "--compare", help="Run the seeded day without and with the policy; print KPIs."
    ),
    policy: str = typer.Option(
        "devices.policies:reference",
        "--policy",
        help="--compare: module:factory returning the policy to put in the loop.",
    ),
    report: Path | None = typer.Option(
        None,
        "--report",
        help="--compare: JSON file for the KPI table (default var/compare-*.json).",
    ),
    date: str | None = typer.Option(
        None, "--date", help="--compare: day to simulate, YYYY-MM-DD (default: today)."
    ),
    ocpp: str | None = typer.Option(
        None,
        "--ocpp",
        help="The chargers connect as OCPP charge points to this bridge, ws://HOST:PORT "
        f"(--compare: --ocpp {IN_PROCESS} runs a bridge in this process).",
    ),
    ocpp_passwords: Path | None = typer.Option(
        None,
        "--ocpp-passwords",
        help="--ocpp: folder of the charge points' password files "
        "(territory inventory export --ocpp-passwords).",
    ),
) -> None:
    """Run a simulated territory: every device publishes on its own schedule and obeys commands."""
    from devices.scenario import ScenarioError, load_scenario
    from territory.bus import BrokerAddress
    from territory.settings import load_settings

    settings = load_settings()
    try:
        scenario = load_scenario(territory or settings.territory_file)
        duration_s = parse_duration(duration) if duration is not None else None
    except (ScenarioError, ValueError) as exc:
        _fail(str(exc), 2)
    if compare:
        if ocpp not in (None, IN_PROCESS):
            _fail(f"--compare runs its own bridge: --ocpp {IN_PROCESS}, not a URL", 2)
        over_ocpp = ocpp is not None
        _compare(scenario, seed, speed, duration_s or 86400.0, policy, report, date, over_ocpp)
        return
    if ocpp is not None and (ocpp == IN_PROCESS or ocpp_passwords is None):
        _fail("--ocpp needs the bridge's URL, ws://HOST:PORT, and --ocpp-passwords DIR", 2)
    try:
        broker = BrokerAddress.from_url(
            mqtt or settings.mqtt_url, mqtt_auth or settings.mqtt_auth_file
        )
    except ValueError as exc:
        _fail(str(exc), 2)
    chargepoints = None if ocpp is None or ocpp_passwords is None else (ocpp, ocpp_passwords)
    _live(scenario, broker, seed, faults, speed or 1.0, duration_s, chargepoints)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _stop_on_signals(stop: threading.Event) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def _live(
    scenario: Scenario,
    broker: BrokerAddress,
    seed: int,
    faults: float,
    speed: float,
    duration_s: float | None,
    chargepoints: tuple[str, Path] | None = None,
) -> None:
    from devices.gateway import BrokerUnreachable
    from devices.live import LiveRun

    try:
        run = LiveRun(
            scenario,
            broker,
            seed=seed,
            faults=faults,
            speed=speed,
            duration_s=duration_s,
            ocpp=chargepoints,
        )
        run.connect()
    except ValueError as exc:
        _fail(str(exc), 2)
    except BrokerUnreachable as exc:
        _fail(str(exc), 1)
    except OSError as exc:  # the bridge refused the charge points or is not there
        run.close()
        run.gateway.close()
        _fail(f"OCPP bridge: {exc}", 1)
    _stop_on_signals(run.stop)
    typer.echo(run.banner())
    run.run()
    typer.echo(json.dumps(run.summary()))


def _compare(
    scenario: Scenario,
    seed: int,
    speed: float | None,
    duration_s: float,
    policy: str,
    report: Path | None,
    date: str | None,
    ocpp: bool = False,
) -> None:
    from devices.compare import compare, start_of_day
    from devices.policies import load_policy

    try:
        factory = load_policy(policy)
        start = start_of_day(date, scenario.utc_offset_h)
    except ValueError as exc:
        _fail(str(exc), 2)
    stop = threading.Event()
    _stop_on_signals(stop)
    typer.echo(
        f"comparing {scenario.name} (seed {seed}, {duration_s / 3600:g} h simulated) "
        f"without and with {policy}" + (" over OCPP" if ocpp else "")
    )
    result = compare(
        scenario, seed, start, duration_s, factory, policy, speed=speed, stop=stop, ocpp=ocpp
    )
    if stop.is_set():
        _fail("interrupted: no comparison written", 130)
    path = report or Path("var") / f"compare-{scenario.name}-seed{seed}.json"
    result.write(path)
    typer.echo(result.table())
    typer.echo(f"written to {path}")


def inventory_export(
    territory: Path = typer.Option(..., "--territory", help="Scenario file to describe."),
    out: Path | None = typer.Option(
        None, "--out", help="Write the inventory here (default: standard output)."
    ),
    ocpp_passwords: Path | None = typer.Option(
        None,
        "--ocpp-passwords",
        help="Make every charger an OCPP connector (security profile 1) with its password "
        "file in this folder (mode 0600; an existing one is kept).",
    ),
    seed: int = typer.Option(
        0, "--seed", help="--ocpp-passwords: the twin's seed (its chargers' versions and quirks)."
    ),
) -> None:
    """Write the inventory a scenario describes: zones, every device and its limits."""
    from devices.inventory import ocpp_inventory, scenario_inventory
    from devices.scenario import ScenarioError, load_scenario
    from territory.inventory import dump_inventory

    try:
        scenario = load_scenario(territory)
        if ocpp_passwords is None:
            inventory = scenario_inventory(scenario)
        else:
            inventory = ocpp_inventory(scenario, ocpp_passwords, seed)
        text = dump_inventory(inventory)
    except ScenarioError as exc:
        typer.echo(f"territory inventory export: {exc}", err=True)
        raise typer.Exit(2) from exc
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(f"inventory: {out}", err=True)
