"""Ingest throughput and latency against a real mosquitto, SQLite and influxd.

For each configuration (store × workers) it publishes N QoS 1 messages from several
publisher processes and measures:
- sustained throughput: messages durably stored per second, first publish to last write;
- loss: PUBACKed messages missing from the store (must be 0);
- publish→stored latency p50/p99 at half the measured load (from the workers'
  `ingest_lag_seconds` histogram, interpolated within buckets);
and, in the same run, the rate at which `mosquitto_sub` receives the same stream: the
broker's own limit on this machine.

    python bench/ingest.py [--messages 100000] [--publishers 4] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository in place of bench/ (whose ocpp.py would hide the ocpp package).
sys.path[0] = str(REPO)

import httpx  # noqa: E402

from bench.report import markdown_table, record  # noqa: E402
from territory.store import open_store  # noqa: E402
from tests.ingest.harness import IngestProcess  # noqa: E402
from tests.services import Influxd, Mosquitto, find_binary  # noqa: E402


def meter_line(seq: int, previous_us: list[int]) -> bytes:
    # The device time is the moment the line is written, so lag = publish → stored. It
    # always moves forward, in whole microseconds, so no two readings share a time.
    ts_us = max(time.time_ns() // 1000, previous_us[0] + 1)
    previous_us[0] = ts_us
    return b'{"ts":%d.%06d,"seq":%d,"activePower":1.5,"activeEnergyImport":%d.0}\n' % (
        ts_us // 10**6,
        ts_us % 10**6,
        seq,
        seq,
    )


_PACING_S = 0.005


def _feed(process: subprocess.Popen[bytes], count: int, rate: float | None) -> None:
    """Write `count` readings to one mosquitto_pub, all at once or paced at `rate`/s."""
    assert process.stdin is not None
    previous_us = [0]
    if rate is None:
        process.stdin.write(b"".join(meter_line(seq, previous_us) for seq in range(count)))
    else:
        # Every few milliseconds, the lines due by then in one write: a write per line
        # made the load generator cost as much CPU as the ingest it measures.
        started, seq = time.monotonic(), 0
        while seq < count:
            due = min(count, int((time.monotonic() - started) * rate) + 1)
            if due > seq:
                process.stdin.write(b"".join(meter_line(n, previous_us) for n in range(seq, due)))
                process.stdin.flush()
                seq = due
            time.sleep(_PACING_S)
    process.stdin.close()


def run_publishers(port: int, total: int, publishers: int, rate: float | None) -> float:
    """Publish `total` QoS 1 messages from `publishers` mosquitto_pub processes (one device
    each); returns the start time once every message is PUBACKed (mosquitto_pub exits 0)."""
    share = total // publishers
    processes = [
        subprocess.Popen(
            [
                find_binary("mosquitto_pub"),
                "-p",
                str(port),
                "-q",
                "1",
                "-M",
                "1000",
                "-i",
                f"bench-pub-{i}",
                "-t",
                f"territory/z{i}/meter/m-{i}/telemetry",
                "-l",
            ],
            stdin=subprocess.PIPE,
        )
        for i in range(publishers)
    ]
    started = time.monotonic()
    feeders = [
        threading.Thread(target=_feed, args=(p, share, rate / publishers if rate else None))
        for p in processes
    ]
    for feeder in feeders:
        feeder.start()
    for feeder in feeders:
        feeder.join()
    for process in processes:
        if process.wait(600) != 0:
            raise RuntimeError("a publisher failed: not every message was acknowledged")
    return started


def broker_limit(folder: Path, total: int, publishers: int) -> float:
    """Messages per second that mosquitto_sub (C, QoS 1) receives from the same publishers."""
    broker = Mosquitto(folder / "mosq-sub")
    broker.start()
    try:
        sub = subprocess.Popen(
            [
                find_binary("mosquitto_sub"),
                "-p",
                str(broker.port),
                "-q",
                "1",
                "-i",
                "bench-sub",
                "-t",
                "territory/+/+/+/telemetry",
                "-C",
                str(total),
            ],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        started = run_publishers(broker.port, total, publishers, None)
        sub.wait(600)
        return total / (time.monotonic() - started)
    finally:
        broker.stop()


def lag_quantiles(workers: list[IngestProcess], quantiles: tuple[float, ...]) -> list[float]:
    """Quantiles of ingest_lag_seconds summed over workers, linear within a bucket."""
    buckets: dict[float, float] = {}
    for worker in workers:
        for line in httpx.get(f"http://127.0.0.1:{worker.metrics_port}/metrics").text.splitlines():
            if line.startswith("ingest_lag_seconds_bucket"):
                bound = line.split('le="')[1].split('"')[0]
                upper = float("inf") if bound == "+Inf" else float(bound)
                buckets[upper] = buckets.get(upper, 0) + float(line.split()[-1])
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    found = []
    for q in quantiles:
        target, lower, below = q * total, 0.0, 0.0
        for upper in bounds:
            if buckets[upper] >= target:
                width = (upper if upper != float("inf") else lower * 2) - lower
                share = (target - below) / max(buckets[upper] - below, 1)
                found.append(lower + width * share)
                break
            lower, below = upper, buckets[upper]
    return found


def stored_total(workers: list[IngestProcess]) -> float:
    return sum(
        w.metric("ingest_stored_total") + w.metric("ingest_duplicates_total") for w in workers
    )


def ingest_run(
    folder: Path,
    store_url: str,
    *,
    workers: int,
    protocol: str,
    total: int,
    publishers: int,
    rate: float | None,
) -> dict[str, float]:
    broker = Mosquitto(folder / f"mosq-{time.monotonic_ns()}")
    broker.start()
    group = ["--group", "bench"] if workers > 1 else []
    processes = [
        IngestProcess(
            f"{broker.url}?protocol={protocol}",
            store_url,
            folder / f"ingest-{n}.log",
            client_id=f"bench-ingest-{n}",
            extra=group,
        )
        for n in range(workers)
    ]
    try:
        for worker in processes:
            worker.start()
        started = run_publishers(broker.port, total, publishers, rate)
        deadline = time.monotonic() + 600
        while stored_total(processes) < total and time.monotonic() < deadline:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        p50, p99 = lag_quantiles(processes, (0.5, 0.99))
        store = open_store(store_url)
        stored = store.stats().readings
        store.close()
        return {
            "rate": total / elapsed,
            "p50_ms": p50 * 1000,
            "p99_ms": p99 * 1000,
            "lost": total - stored,
        }
    finally:
        for worker in processes:
            worker.stop()
        broker.stop()


# (store, workers, MQTT version): paho decodes MQTT 5 properties on every message, which
# costs a worker much of its throughput; both versions are measured.
CONFIGURATIONS = [
    ("sqlite", 1, "5"),
    ("sqlite", 1, "3.1.1"),
    ("sqlite", 2, "5"),
    ("sqlite", 2, "3.1.1"),
    ("influxdb", 1, "5"),
    ("influxdb", 1, "3.1.1"),
    ("influxdb", 2, "3.1.1"),
]


def store_url_for(store_name: str, folder: Path, influxd: Influxd) -> Callable[[str], str]:
    if store_name == "sqlite":
        return lambda tag: f"sqlite:///{folder}/{tag}.db"
    return influxd.store_url


def measure(
    folder: Path,
    influxd: Influxd,
    store_name: str,
    workers: int,
    protocol: str,
    total: int,
    publishers: int,
    limit: float,
    round_no: int,
) -> dict[str, float]:
    """One configuration: full load, then half of that rate for latency."""
    url = store_url_for(store_name, folder, influxd)
    tag = f"{workers}-{protocol.replace('.', '')}-r{round_no}"
    run = functools.partial(ingest_run, folder, workers=workers, protocol=protocol)
    full = run(url(f"full{tag}"), total=total, publishers=publishers, rate=None)
    half = run(url(f"half{tag}"), total=total // 2, publishers=publishers, rate=full["rate"] / 2)
    return {
        "rate": full["rate"],
        "ratio": full["rate"] / limit,
        "lost": full["lost"] + half["lost"],
        "half_rate": half["rate"],
        "half_p50": half["p50_ms"],
        "half_p99": half["p99_ms"],
        "full_p99": full["p99_ms"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--quick", action="store_true", help="20,000 messages, one round")
    args = parser.parse_args(argv)
    total = 20_000 if args.quick else args.messages
    rounds = 1 if args.quick else args.rounds

    results: dict[tuple[str, int, str], list[dict[str, float]]] = {c: [] for c in CONFIGURATIONS}
    limits: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        influxd = Influxd(folder / "influxd")
        influxd.start()
        try:
            # Rounds interleave the configurations, so a slow spell of the machine
            # spreads over all of them; each ratio uses its own round's broker rate.
            for round_no in range(rounds):
                limit = broker_limit(folder, total, args.publishers)
                limits.append(limit)
                print(
                    f"round {round_no + 1}: mosquitto_sub receives {limit:,.0f} msg/s", flush=True
                )
                for configuration in CONFIGURATIONS:
                    figures = measure(
                        folder, influxd, *configuration, total, args.publishers, limit, round_no
                    )
                    print(json.dumps([*configuration, figures]), flush=True)
                    results[configuration].append(figures)
        finally:
            influxd.stop()
    limit = statistics.median(limits)

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    rows = []
    for (store_name, workers, protocol), runs in results.items():
        rows.append(
            [
                store_name,
                workers,
                protocol,
                f"{median(runs, 'rate'):,.0f}",
                f"{min(run['rate'] for run in runs):,.0f}–{max(run['rate'] for run in runs):,.0f}",
                f"{median(runs, 'ratio'):.2f}",
                int(sum(run["lost"] for run in runs)),
                f"{median(runs, 'half_rate'):,.0f}",
                f"{median(runs, 'half_p50'):.0f}",
                f"{median(runs, 'half_p99'):.0f}",
                f"{median(runs, 'full_p99'):.0f}",
            ]
        )
    header = [
        "store",
        "workers",
        "MQTT",
        "stored msg/s",
        "range",
        "÷ mosquitto_sub",
        "lost",
        "half-load msg/s",
        "p50 ms (half)",
        "p99 ms (half)",
        "p99 ms (full)",
    ]
    table = markdown_table(header, rows)
    print(table)
    record(
        "ingest",
        f"## Ingest (`bench/ingest.py`)\n\n{total:,} QoS 1 messages from {args.publishers} "
        "publisher processes (`mosquitto_pub -l`, one device each), full validation, manual "
        f"ack after the durable write; {rounds} rounds, medians (and the range of stored "
        f"msg/s). In the same rounds `mosquitto_sub` received the same stream at a median "
        f"**{limit:,.0f} msg/s** ({min(limits):,.0f}–{max(limits):,.0f}); each ratio is "
        "against its own round. Latency is device time (= publish time) to durable write, "
        "interpolated from the `ingest_lag_seconds` histogram; the half-load run paces the "
        f"publishers at half the full-load rate.\n\n{table}",
    )


if __name__ == "__main__":
    main()
