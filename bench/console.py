"""Benchmark of the operator console's live stream: many pages open at once.

A writer stores readings of every device of a scenario (metropolis by default) at the
scenario's reporting periods into a SQLite store, as ingest would; `territory dashboard`
serves that store in its own process; N clients hold /api/stream open. Each reading carries
the time it was stored (`arrival`), so a client's latency is the time it receives the
reading minus that. Reported: latency p50/p99/max, updates per client per second, and the
console process's CPU and memory (RSS at the start and the end of the measured window).

    python bench/console.py [--clients 50] [--duration 60] [--territory FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
# The repository in place of bench/ (whose ocpp.py would hide the ocpp package).
sys.path[0] = str(REPO)

from bench.report import markdown_table, record  # noqa: E402
from devices.scenario import Scenario, load_scenario  # noqa: E402
from territory.readings import Reading  # noqa: E402
from territory.store.sqlite import SqliteStore  # noqa: E402
from territory.tokens import hash_token, new_token  # noqa: E402
from tests.services import free_port, wait_for_port  # noqa: E402

TOKEN = new_token()


def fields_for(kind: str, rng: random.Random, feeder: str) -> dict[str, Any]:
    """Plausible, valid attributes of one reading of this kind."""
    if kind == "bike_station":
        bikes = rng.randint(0, 20)
        return {"availableBikeNumber": bikes, "freeSlotNumber": 20 - bikes, "totalSlotNumber": 20}
    if kind == "feeder":
        return {"activePower": round(rng.uniform(100, 420), 1), "powerLimit": 400.0}
    if kind == "ev_charger":
        return {"status": "charging", "powerConsumption": 7.4, "maxPower": 11.0, "feeder": feeder}
    if kind == "traffic":
        return {"intensity": rng.randint(0, 80), "occupancy": 0.2, "averageVehicleSpeed": 35.0}
    if kind == "transit_counter":
        return {"boardings": rng.randint(0, 30), "corridor": "bench"}
    if kind == "air":
        return {"pm25": round(rng.uniform(3, 30), 1), "pm10": 20.0, "no2": 25.0}
    return {"activePower": round(rng.uniform(0, 5), 2), "activeEnergyImport": 100.0}


@dataclass
class Writer:
    """Writes each device's next reading when its period comes, in batches every 0.2 s."""

    store: SqliteStore
    scenario: Scenario
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    written: int = 0

    def __post_init__(self) -> None:
        periods = self.scenario.periods
        now = time.time()
        feeder = self.scenario.feeders[0].id if self.scenario.feeders else "feeder"
        self.devices = [(d.kind, d.zone, d.device_id, feeder) for d in self.scenario.devices()]
        self.devices += [("feeder", f.zone, f.id, f.id) for f in self.scenario.feeders]
        self.period = {d[2]: float(getattr(periods, d[0])) for d in self.devices}
        self.due = {d[2]: now + self.rng.uniform(0, self.period[d[2]]) for d in self.devices}
        self.seq = dict.fromkeys(self.due, 0)

    def tick(self) -> None:
        now = time.time()
        batch = []
        for kind, zone, device, feeder in self.devices:
            if self.due[device] > now:
                continue
            self.due[device] = now + self.period[device]
            self.seq[device] += 1
            batch.append(
                Reading(
                    kind=kind,
                    zone=zone,
                    device_id=device,
                    ts_ns=time.time_ns(),
                    seq=self.seq[device],
                    fields=fields_for(kind, self.rng, feeder),
                    arrival_ns=0,
                )
            )
        if batch:
            stamp = time.time_ns()  # the moment they become visible, as ingest's write
            stamped = [
                Reading(r.kind, r.zone, r.device_id, r.ts_ns, r.seq, r.fields, stamp) for r in batch
            ]
            self.store.write(stamped)
            self.written += len(stamped)

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.to_thread(self.tick)
            await asyncio.sleep(0.2)


@dataclass
class Client:
    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    snapshots: int = 0
    measuring: bool = False
    seen: set[tuple[str, int]] = field(default_factory=set)


async def listen(url: str, client: Client, until: float) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=30)) as http,
        http.stream("GET", f"{url}/api/stream", headers=headers) as response,
    ):
        kind, data = "", ""
        async for line in response.aiter_lines():
            if time.monotonic() >= until:
                return
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and data:
                received = time.time()
                body = json.loads(data)
                if kind == "snapshot":
                    client.snapshots += 1
                elif client.measuring:
                    client.updates += 1
                    client.latencies += [received - r["arrival"] for r in body.get("readings", [])]
                    client.seen.update((r["device_id"], r["seq"]) for r in body.get("readings", []))
                data = ""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def start_console(
    folder: Path, store_url: str, territory: Path
) -> tuple[subprocess.Popen[bytes], str]:
    config = folder / "console.yaml"
    config.write_text(
        f"tokens: [{{name: bench, role: viewer, token_hash: '{hash_token(TOKEN)}'}}]\n"
        "rate_limit: {per_minute: 100000, burst: 1000}\n"
    )
    port = free_port()
    log = (folder / "console.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "territory", "dashboard", "--store", store_url,
         "--port", str(port), "--territory", str(territory), "--console-config", str(config)],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )  # fmt: skip
    wait_for_port(port, 30)
    return process, f"http://127.0.0.1:{port}"


async def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    scenario = load_scenario(args.territory)
    store = SqliteStore(folder / "territory.db")
    writer = Writer(store, scenario)
    writer.tick()  # a first reading of everything that is due at once
    process, url = start_console(folder, f"sqlite:///{folder / 'territory.db'}", args.territory)
    try:
        warm_until = time.monotonic() + args.warmup
        until = warm_until + args.duration
        clients = [Client() for _ in range(args.clients)]
        tasks = [asyncio.create_task(listen(url, c, until)) for c in clients]
        writing = asyncio.create_task(writer.run(until))
        await asyncio.sleep(args.warmup)
        for client in clients:
            client.measuring = True
        rss_start, cpu_start = rss_bytes(process.pid), cpu_seconds(process.pid)
        bench_cpu_start = time.process_time()
        started = time.monotonic()
        written_start = writer.written
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        elapsed = time.monotonic() - started
        cpu_end, rss_end = cpu_seconds(process.pid), rss_bytes(process.pid)
        bench_cpu_end = time.process_time()
        await writing
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()
        store.close()
    latencies = [x for c in clients for x in c.latencies]
    cpu = (cpu_end - cpu_start) / elapsed
    return {
        "scenario": scenario.name,
        "devices": len(writer.devices),
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "readings_per_s": round((writer.written - written_start) / elapsed, 1),
        "deliveries": len(latencies),
        "distinct_deliveries": sum(len(c.seen) for c in clients),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "max_ms": round(1000 * max(latencies, default=float("nan")), 1),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "updates_per_client_s": round(statistics.fmean(c.updates for c in clients) / elapsed, 2),
        "clients_without_updates": sum(1 for c in clients if not c.updates),
        "cpu_percent": round(100 * cpu, 1),
        "bench_cpu_percent": round(100 * (bench_cpu_end - bench_cpu_start) / elapsed, 1),
        "rss_start_mib": round(rss_start / 2**20, 1),
        "rss_end_mib": round(rss_end / 2**20, 1),
        # Other work on the machine competes for the same cores: say how busy it was.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="Concurrent SSE clients.")
    parser.add_argument("--duration", type=float, default=60.0, help="Measured seconds.")
    parser.add_argument("--warmup", type=float, default=5.0, help="Seconds before measuring.")
    parser.add_argument(
        "--territory",
        type=Path,
        default=REPO / "config/territories/metropolis.yaml",
        help="Scenario whose devices are written.",
    )
    args = parser.parse_args()
    if not args.territory.exists():
        sys.exit(f"{args.territory} not found: give a scenario with --territory")
    with tempfile.TemporaryDirectory(prefix="bench-console-") as folder:
        figures = asyncio.run(measure(args, Path(folder)))
    print(json.dumps(figures, indent=1))
    target = "met" if figures["p99_ms"] < 2000 else "MISSED"
    table = markdown_table(
        ["scenario", "devices", "readings/s", "clients", "p50 ms", "p99 ms", "max ms",
         "updates/client/s", "console CPU %", "RSS start → end MiB"],
        [[figures["scenario"], figures["devices"], figures["readings_per_s"], figures["clients"],
          figures["p50_ms"], figures["p99_ms"], figures["max_ms"], figures["updates_per_client_s"],
          figures["cpu_percent"], f"{figures['rss_start_mib']} → {figures['rss_end_mib']}"]],
    )  # fmt: skip
    record(
        "console",
        "## Console: live stream under load (`bench/console.py`)\n\n"
        f"{figures['clients']} pages hold the event stream open for {figures['seconds']} s while"
        " every device of the scenario is written into SQLite at its reporting period. Latency:"
        " from the reading's write to its arrival at a page. Target p99 < 2000 ms:"
        f" **{target}**. Machine load average over the last minute of the run:"
        f" {figures['load_average_1min']} on {os.cpu_count()} cores (the bench and other"
        f" processes included).\n\n{table}",
    )


if __name__ == "__main__":
    main()
