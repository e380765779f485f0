"""The OCPP bridge under a metropolis's chargers: one bridge process, N charge points.

Measures, against a real mosquitto and real OCPP peers (the `ocpp` package's client
classes, half 1.6J and half 2.0.1, in worker processes):
- the time to connect and boot every charge point;
- the bridge's CPU (share of one core) and memory with MeterValues from every charger
  every `--meter-every` seconds;
- the time from a plan (a set-point on every connector's `cmd` topic) to every profile
  accepted;
- the reflex: from an overload reading published for a feeder to corrective profiles
  accepted at every charger on it, p50/p99 over `--reflexes` feeders, under that load.

    python bench/ocpp.py [--charge-points 3000] [--per-feeder 20] [--workers 2]
                         [--load-seconds 60] [--reflexes 30] [--record]

Figures are printed; `--record` also writes them to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, and its name would hide the
# `ocpp` package: the repository takes its place.
sys.path[0] = str(REPO)

import ocpp.messages as ocpp_messages  # noqa: E402

from bench.report import markdown_table, record  # noqa: E402
from tests.bridges.ocpp.conftest import (  # noqa: E402
    BridgeProcess,
    ChargerSpec,
    Listener,
    write_inventory,
)
from tests.bridges.ocpp.peers import (  # noqa: E402
    Behaviour,
    Connector,
    SimulatedStation,
    Station16,
    Station201,
)
from tests.services import Mosquitto  # noqa: E402

MAX_KW = 11.0
PLAN_KW = 7.0
KW_PER_CHARGER_OF_LIMIT = 8.0  # a feeder's limit: 8 kW per 11 kW charger on it
CONNECTING_AT_ONCE = 50


# -- the worker processes: charge points -------------------------------------------------


def worker(pipe: Connection, url: str, specs: list[tuple[str, str, int]]) -> None:
    ocpp_messages.ASYNC_VALIDATION = False  # as the bridge does: no thread hop per message
    asyncio.run(_worker(pipe, url, specs))


async def _worker(pipe: Connection, url: str, specs: list[tuple[str, str, int]]) -> None:
    loop = asyncio.get_running_loop()
    stations: list[SimulatedStation] = []
    meter_task: asyncio.Task[None] | None = None
    while True:
        command, *args = await loop.run_in_executor(None, pipe.recv)
        if command == "connect":
            stations = await _connect_all(url, specs)
            pipe.send(time.monotonic())
        elif command == "meter":
            meter_task = asyncio.create_task(_meter_forever(stations, args[0]))
            pipe.send(True)
        elif command == "profiles_after":
            since, wanted = args
            found: dict[str, float] = {}
            for station in stations:
                times = [
                    r.at
                    for r in station.profiles.received
                    if r.at > since and r.accepted and r.purpose in wanted
                ]
                if times:
                    found[station.id] = min(times)
            pipe.send(found)
        elif command == "stop":
            if meter_task is not None:
                meter_task.cancel()
            await asyncio.gather(*(s.close() for s in stations), return_exceptions=True)
            pipe.send(True)
            return


async def _connect_all(url: str, specs: list[tuple[str, str, int]]) -> list[SimulatedStation]:
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def one(cp_id: str, password: str, index: int) -> SimulatedStation:
        kind = Station16 if index % 2 == 0 else Station201
        station = kind(cp_id, {1: Connector(MAX_KW)}, Behaviour())
        async with gate:
            await station.connect(url, password)
            await station.boot()
            await station.plug_in(1, demand_kw=MAX_KW)
            await station.meter(1)
        return station

    return list(await asyncio.gather(*(one(*spec) for spec in specs)))


async def _meter_forever(stations: list[SimulatedStation], every_s: float) -> None:
    """Each station reports every `every_s`, spread evenly over the period."""
    gap = every_s / max(len(stations), 1)
    running: set[asyncio.Task[None]] = set()
    while True:
        for station in stations:
            started = time.monotonic()
            task = asyncio.create_task(_quiet(station.meter(1, seconds=every_s)))
            running.add(task)
            task.add_done_callback(running.discard)
            await asyncio.sleep(max(gap - (time.monotonic() - started), 0))


async def _quiet(coroutine: Any) -> None:
    with contextlib.suppress(Exception):  # a late answer under load is not the bench's concern
        await coroutine


# -- the bridge process ------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


class Fleet:
    """Worker processes holding the charge points."""

    def __init__(self, url: str, specs: list[ChargerSpec], workers: int) -> None:
        context = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for index in range(workers):
            mine = [(s.cp_id, s.password, i) for i, s in enumerate(specs) if i % workers == index]
            ours, theirs = context.Pipe()
            process = context.Process(target=worker, args=(theirs, url, mine), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    def ask(self, *command: Any) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def profiles_after(self, since: float, purposes: tuple[str, ...]) -> dict[str, float]:
        found: dict[str, float] = {}
        for part in self.ask("profiles_after", since, purposes):
            found |= part
        return found

    def stop(self) -> None:
        self.ask("stop")
        for process in self.processes:
            process.join(10)


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-ocpp-"))
    feeders = max(args.charge_points // args.per_feeder, 1)
    specs = [
        ChargerSpec(f"CP{i:05d}", max_kw=MAX_KW, feeder=f"f{i % feeders:04d}")
        for i in range(args.charge_points)
    ]
    limits = {f"f{k:04d}": KW_PER_CHARGER_OF_LIMIT * args.per_feeder for k in range(feeders)}
    inventory = write_inventory(folder / "inventory", specs, limits)
    broker = Mosquitto(folder / "mosquitto")
    broker.start()
    bridge = BridgeProcess(
        inventory, broker.url, folder / "bridge.log", extra=["--call-timeout", "10"]
    )
    listener = Listener(broker.url)
    figures: dict[str, Any] = {"charge_points": args.charge_points, "feeders": feeders}
    try:
        bridge.start()
        assert bridge.process is not None
        pid = bridge.process.pid
        fleet = Fleet(bridge.url, specs, args.workers)
        started = time.monotonic()
        done = fleet.ask("connect")
        figures["connect_s"] = round(max(done) - started, 2)
        print(
            f"{args.charge_points} charge points connected and booted in {figures['connect_s']} s"
        )

        fleet.ask("meter", args.meter_every)
        time.sleep(5)  # the floors settle
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.load_seconds)
        figures["cpu_share"] = round((cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0), 3)
        figures["rss_mb"] = round(rss_mb(pid), 1)
        print(
            f"MeterValues every {args.meter_every:.0f} s: bridge CPU {figures['cpu_share']:.1%} "
            f"of a core, RSS {figures['rss_mb']} MB"
        )

        cpu_before_plan = cpu_seconds(pid)
        plan_at = time.monotonic()
        now = time.time()
        for spec in specs:
            listener.client.publish(
                f"territory/centre/ev_charger/{spec.device_id()}/cmd",
                f'{{"ts":{now:.3f},"setpoint":{PLAN_KW},"valid_until":{now + 600:.3f},"plan":"bench"}}',
                qos=1,
            )
        tx = ("TxProfile",)
        all_in = wait_for(lambda: len(fleet.profiles_after(plan_at, tx)) == len(specs), 120)
        received = fleet.profiles_after(plan_at, tx)
        figures["plan_s"] = round(max(received.values()) - plan_at, 2) if received else None
        figures["plan_cpu_s"] = round(cpu_seconds(pid) - cpu_before_plan, 2)
        print(
            f"plan to every profile accepted: {figures['plan_s']} s "
            f"({len(received)}/{len(specs)}{'' if all_in else ', timed out'}); "
            f"bridge CPU meanwhile {figures['plan_cpu_s']} s"
        )
        time.sleep(max(args.meter_every, 5) + 2)  # every charger has reported its new draw

        by_feeder: dict[str, list[str]] = {}
        for spec in specs:
            by_feeder.setdefault(spec.feeder, []).append(spec.cp_id)
        latencies: list[float] = []
        for index, (feeder_id, members) in enumerate(list(by_feeder.items())[: args.reflexes]):
            at = time.monotonic()
            listener.client.publish(
                f"territory/centre/feeder/{feeder_id}/telemetry",
                f'{{"ts":{time.time():.3f},"seq":{index + 1},"activePower":{limits[feeder_id] * 1.2:.1f},'
                f'"powerLimit":{limits[feeder_id]:.1f}}}',
                qos=1,
            )
            ok = wait_for(
                lambda at=at, members=members: set(members) <= set(fleet.profiles_after(at, tx)), 30
            )
            got = fleet.profiles_after(at, tx)
            if ok:
                latencies.append(max(got[m] for m in members) - at)
            time.sleep(0.5)
        if latencies:
            figures["reflex_p50_s"] = round(statistics.median(latencies), 3)
            figures["reflex_p99_s"] = round(percentile(latencies, 0.99), 3)
        figures["reflexes"] = f"{len(latencies)}/{min(args.reflexes, len(by_feeder))}"
        print(
            f"reflex (overload reading → corrective profiles at all {args.per_feeder} chargers "
            f"of the feeder): p50 {figures.get('reflex_p50_s')} s, p99 {figures.get('reflex_p99_s')} s "
            f"over {figures['reflexes']} feeders"
        )
        figures["rss_mb_end"] = round(rss_mb(pid), 1)
        fleet.stop()
    finally:
        listener.close()
        bridge.stop()
        broker.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--charge-points", type=int, default=3000)
    parser.add_argument("--per-feeder", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=2, help="processes holding the charge points"
    )
    parser.add_argument("--meter-every", type=float, default=60.0)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--reflexes", type=int, default=30)
    parser.add_argument("--record", action="store_true", help="write to docs/performance.md")
    args = parser.parse_args()
    figures = run(args)
    table = markdown_table(
        [
            "charge points",
            "connect (s)",
            "bridge CPU (core)",
            "RSS (MB)",
            "plan → all profiles (s)",
            "reflex p50 (s)",
            "reflex p99 (s)",
        ],
        [
            [
                figures["charge_points"],
                figures["connect_s"],
                f"{figures['cpu_share']:.1%}",
                figures["rss_mb_end"],
                figures["plan_s"],
                figures.get("reflex_p50_s"),
                figures.get("reflex_p99_s"),
            ]
        ],
    )
    print(table)
    if args.record:
        record("ocpp", "## OCPP bridge\n\n" + table)


if __name__ == "__main__":
    main()
