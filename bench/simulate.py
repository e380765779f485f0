"""How many messages per second one simulator process sustains, with its CPU and memory.

Three measurements on the metropolis scenario (28,260 devices, ~555 msg/s nominal):

- generation: the twin alone (world, readings, payloads) into a counting sink, as fast
  as it goes: the ceiling before any MQTT;
- nominal: real time (speed 1) against a real mosquitto: does one process keep up, at
  what share of one core and how much memory;
- burst: a free-running clock, publishing as fast as the gateway's batched writes and
  the broker's acknowledgements allow (QoS 1), over MQTT 5 and MQTT 3.1.1.

Besides the rate, each run reports the CPU each process spent per message: on this
shared machine the rate depends on how much of a core the run gets, the CPU cost does
not (much). The load average is printed and recorded with the figures.

Run: `python bench/simulate.py [--seconds 20]`. Prints the figures and records them in
docs/performance.md (section "simulate").
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import markdown_table, record
from devices.clock import RealClock, VirtualClock
from devices.live import LiveRun
from devices.scenario import Scenario, load_scenario
from devices.twin import Twin
from tests.services import REPO, Mosquitto

SCENARIO = REPO / "config/territories/metropolis.yaml"


class CountingSink:
    def __init__(self) -> None:
        self.count = 0
        self.size = 0

    def publish(self, topic: str, payload: bytes) -> None:
        self.count += 1
        self.size += len(payload)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / 100.0


def generation(scenario: Scenario, seconds: float) -> dict[str, float]:
    sink = CountingSink()
    started = time.perf_counter()
    twin = Twin(scenario, VirtualClock(time.time()), sink, seed=1)
    build_s = time.perf_counter() - started
    cpu0, wall0 = time.process_time(), time.perf_counter()
    t = twin.start
    while time.perf_counter() - wall0 < seconds:
        t += 10.0
        twin.run_until(t)
    wall = time.perf_counter() - wall0
    return {
        "build_s": build_s,
        "msgs": sink.count,
        "rate": sink.count / wall,
        "cpu": (time.process_time() - cpu0) / wall,
        "bytes": sink.size / max(1, sink.count),
    }


def timed_run(run: LiveRun, seconds: float, broker_pid: int) -> dict[str, float]:
    """Run for `seconds` of wall time, then stop; counts what the broker acknowledged."""
    run.connect()
    broker_cpu0 = process_cpu_s(broker_pid)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    timer = threading.Timer(seconds, run.stop.set)
    timer.start()
    lags: list[float] = []
    watcher = threading.Thread(target=_watch_lag, args=(run, lags), daemon=True)
    watcher.start()
    run.run()  # stops, then waits for the broker's acknowledgements before returning
    wall = time.perf_counter() - wall0
    timer.cancel()
    watcher.join()
    published = sum(run.twin.published.values())
    lag = max(lags, default=0.0)
    cpu_s = time.process_time() - cpu0
    broker_cpu_s = process_cpu_s(broker_pid) - broker_cpu0
    return {
        "msgs": published,
        "rate": published / wall,
        "acked": run.gateway.acked,
        "cpu": cpu_s / wall,
        "cpu_us": cpu_s / max(1, published) * 1e6,
        "broker_cpu": broker_cpu_s / wall,
        "broker_us": broker_cpu_s / max(1, published) * 1e6,
        "lag_s": lag,
        "unacked": run.gateway.pending(),
    }


def _watch_lag(run: LiveRun, lags: list[float]) -> None:
    """On a real clock: how far the twin's last event trails the simulated now."""
    while not run.stop.wait(0.5):
        if isinstance(run.clock, RealClock):
            lags.append(run.clock.sim_now() - run.twin.t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Wall time per measurement.")
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    devices = len(scenario.devices()) + len(scenario.feeders)
    nominal_rate = sum(1.0 / getattr(scenario.periods, d.kind) for d in scenario.devices())
    nominal_rate += len(scenario.feeders) / scenario.periods.feeder

    load_before = _load()
    gen = generation(scenario, args.seconds / 2)
    print(
        f"generation: {gen['rate']:,.0f} msg/s at {gen['cpu']:.0%} CPU (build {gen['build_s']:.1f} s)"
    )
    gen_us = gen["cpu"] / gen["rate"] * 1e6
    gen_row = ["generation only (no MQTT)", f"{gen['rate']:,.0f}", "-", f"{gen['cpu']:.0%}"]
    rows = [[*gen_row, f"{gen_us:.1f}", "-", "-", "-"]]
    with tempfile.TemporaryDirectory() as folder:
        broker = Mosquitto(Path(folder) / "mosquitto")
        broker.start()
        try:
            assert broker.process is not None
            pid = broker.process.pid
            nominal = timed_run(LiveRun(scenario, broker.url, seed=1), args.seconds, pid)
            print(f"nominal: {nominal}")
            rows.append(_row("nominal, real time, MQTT 5", nominal))
            for protocol in ("5", "3.1.1"):
                url = f"{broker.url}?protocol={protocol}"
                clock = VirtualClock(time.time())
                burst = timed_run(LiveRun(scenario, url, seed=1, clock=clock), args.seconds, pid)
                print(f"burst MQTT {protocol}: {burst}")
                rows.append(_row(f"burst, free-running, MQTT {protocol}", burst))
        finally:
            broker.stop()
    memory = rss_mib()
    load_after = _load()
    print(f"peak memory: {memory:.0f} MiB; load average {load_before} before, {load_after} after")
    table = markdown_table(
        [
            "Run (metropolis)",
            "msg/s",
            "acknowledged",
            "simulator CPU",
            "µs CPU/msg",
            "mosquitto CPU",
            "mosquitto µs/msg",
            "behind real time",
        ],
        rows,
    )
    record(
        "simulate",
        f"### Simulator: one process, {devices:,} devices (gateway mode, QoS 1, batched writes)\n\n"
        f"Nominal rate of the scenario: {nominal_rate:,.0f} msg/s; mean payload "
        f"{gen['bytes']:.0f} bytes; twin built and warmed up in {gen['build_s']:.1f} s; "
        f"peak memory {memory:.0f} MiB. CPU is a share of one core. Each run lasts "
        f"{args.seconds:g} s and ends when the broker has acknowledged every message. "
        f"Load average (1/5/15 min) {load_before} before the runs, {load_after} after: "
        f"the 2 cores are shared, so a rate is bounded by the share of a core the run "
        f"got; the CPU per message is the steadier figure.\n\n{table}",
    )


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _row(name: str, figures: dict[str, float]) -> list[object]:
    return [
        name,
        f"{figures['rate']:,.0f}",
        f"{figures['acked']:,.0f} / {figures['msgs']:,.0f}",
        f"{figures['cpu']:.0%}",
        f"{figures['cpu_us']:.1f}",
        f"{figures['broker_cpu']:.0%}",
        f"{figures['broker_us']:.1f}",
        f"{figures['lag_s']:.1f} s" if figures["lag_s"] else "-",
    ]


if __name__ == "__main__":
    main()
