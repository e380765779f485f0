"""A running ingest beside the maintainer: its rate and lag while a day of the metropolis
has its rollups closed and expires, against the same ingest with nothing beside it.

For each store (SQLite, InfluxDB) and each offered rate it:

1. writes an old day (two days back) of the metropolis twin's readings through the bulk
   path: `--minutes` of simulated readings of every device, `--copies` times over the day;
2. runs `territory ingest` against a real mosquitto, readings published by
   `mosquitto_pub -l` processes at the offered rate, for `--seconds` with nothing beside
   it (alone), then with `territory store maintain` beside it (raw retention 1 day), until
   the maintainer has closed the old day's rollups and the day is gone (on SQLite its space
   given back; on InfluxDB its shard dropped, as influxd's retention does);
3. reports the readings stored per second in each phase (from the worker's counters) and
   the publish→stored lag, median and p99, from the worker's histogram over each phase.

Offered rates: the metropolis's real one (555 readings/s, the target: within 10 % of the
rate alone) and ten times that (the headroom: the publishers, the broker, the worker, the
store and the maintainer sharing this machine's cores). A rate beyond what the worker
takes is not offered: its backlog would grow in the broker for the whole phase, and the
figure would be the broker's queue, not the ingest (the bulk path's own ceiling, with and
without maintenance, is in `bench/store.py`).

    python bench/maintenance.py [--minutes 15] [--copies 2] [--seconds 30] [--record]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository in place of bench/ (whose ocpp.py would hide the ocpp package).
sys.path[0] = str(REPO)

import httpx  # noqa: E402

import tests.services as services  # noqa: E402
from bench.ingest import meter_line  # noqa: E402
from bench.report import markdown_table, record  # noqa: E402
from bench.store import DAY_NS, NS, SCENARIO, batches, generate, write_all  # noqa: E402
from territory.readings import Reading  # noqa: E402
from territory.store import open_store  # noqa: E402
from territory.store.maintenance import rollup_backend  # noqa: E402
from tests.ingest.harness import IngestProcess  # noqa: E402
from tests.services import Mosquitto, find_binary  # noqa: E402

METROPOLIS_RATE = 555.0
PUBLISHERS = 4
_PACING_S = 0.005


# -- load --------------------------------------------------------------------------------------


class Publishers:
    """`PUBLISHERS` mosquitto_pub processes fed meter lines at `rate`/s until stopped."""

    def __init__(self, port: int, rate: float) -> None:
        self.stop_event = threading.Event()
        self.processes = [
            subprocess.Popen(
                [
                    find_binary("mosquitto_pub"),
                    *("-p", str(port), "-q", "1", "-M", "1000", "-i", f"bench-pub-{i}"),
                    *("-t", f"territory/z{i}/meter/m-{i}/telemetry", "-l"),
                ],
                stdin=subprocess.PIPE,
            )
            for i in range(PUBLISHERS)
        ]
        self.feeders = [
            threading.Thread(target=self._feed, args=(p, rate / PUBLISHERS), daemon=True)
            for p in self.processes
        ]
        for feeder in self.feeders:
            feeder.start()

    def _feed(self, process: subprocess.Popen[bytes], rate: float) -> None:
        assert process.stdin is not None
        previous_us, seq, started = [0], 0, time.monotonic()
        while not self.stop_event.is_set():
            # Every few milliseconds, the lines due by then in one write.
            due = int((time.monotonic() - started) * rate) + 1
            if due > seq:
                process.stdin.write(b"".join(meter_line(n, previous_us) for n in range(seq, due)))
                process.stdin.flush()
                seq = due
            time.sleep(_PACING_S)

    def stop(self) -> None:
        self.stop_event.set()
        for feeder in self.feeders:
            feeder.join()
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(120)


# -- what the worker says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    at: float
    stored: float
    lag_buckets: dict[float, float]


def snapshot(worker: IngestProcess) -> Snapshot:
    text = httpx.get(f"http://127.0.0.1:{worker.metrics_port}/metrics").text
    stored, buckets = 0.0, {}
    for line in text.splitlines():
        if line.startswith(("ingest_stored_total ", "ingest_duplicates_total ")):
            stored += float(line.split()[1])
        elif line.startswith("ingest_lag_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if bound == "+Inf" else float(bound)] = float(line.split()[-1])
    return Snapshot(time.monotonic(), stored, buckets)


def quantile(buckets: dict[float, float], q: float) -> float:
    """A quantile of a cumulative histogram, linear within its bucket."""
    bounds = sorted(buckets)
    target, lower, below = q * buckets[bounds[-1]], 0.0, 0.0
    for upper in bounds:
        if buckets[upper] >= target:
            width = (upper if upper != float("inf") else lower * 2) - lower
            return lower + width * (target - below) / max(buckets[upper] - below, 1)
        lower, below = upper, buckets[upper]
    return lower


@dataclass
class Phase:
    rate: float
    p50_ms: float
    p99_ms: float
    seconds: float


def phase(first: Snapshot, last: Snapshot) -> Phase:
    buckets = {b: last.lag_buckets[b] - first.lag_buckets.get(b, 0.0) for b in last.lag_buckets}
    seconds = last.at - first.at
    return Phase(
        (last.stored - first.stored) / seconds,
        quantile(buckets, 0.5) * 1000,
        quantile(buckets, 0.99) * 1000,
        seconds,
    )


# -- one measure -------------------------------------------------------------------------------


@dataclass
class Measure:
    store: str
    offered: str
    alone: Phase
    beside: Phase
    old_day: int
    maintainer_log: list[str]


def old_day(url: str, readings: list[Reading], copies: int, minutes: float) -> int:
    """The old day written through the bulk path; returns its readings."""
    store = open_store(url)
    day = time.time_ns() // DAY_NS * DAY_NS - 2 * DAY_NS
    spacing = DAY_NS // copies
    total = 0
    for copy in range(copies):
        start = day + copy * spacing + int(minutes * 60 * NS)
        written, _ = write_all(store, batches(readings, start, seq0=copy * 10**7))
        total += written
    # Written now with device times two days back, every reading was marked late (its
    # rollups to be computed again); a day ingested live would carry no such marks.
    backend = rollup_backend(store)
    while (taken := backend.late_marks(20_000)).marks:
        backend.clear_late_marks(taken)
    store.close()
    return total


def measure(
    name: str,
    url: str,
    folder: Path,
    readings: list[Reading],
    offered: float,
    args: argparse.Namespace,
    day_gone: Callable[[str], bool],
) -> Measure:
    label = f"{offered:,.0f}/s"
    print(f"[{name}, {label}] writing the old day", flush=True)
    written = old_day(url, readings, args.copies, args.minutes)
    broker = Mosquitto(folder / f"mosq-{time.monotonic_ns()}")
    broker.start()
    worker = IngestProcess(broker.url, url, folder / "ingest.log", client_id="bench-ingest")
    worker.start()
    load = Publishers(broker.port, offered)
    log_path = folder / f"maintain-{time.monotonic_ns()}.log"
    maintainer: subprocess.Popen[bytes] | None = None
    try:
        time.sleep(5)  # the worker at its pace before the clock starts
        print(f"[{name}, {label}] alone for {args.seconds} s", flush=True)
        first = snapshot(worker)
        time.sleep(args.seconds)
        alone = phase(first, snapshot(worker))
        print(f"[{name}, {label}] maintainer beside, until the old day is gone", flush=True)
        with log_path.open("wb") as log:
            maintainer = subprocess.Popen(
                [sys.executable, "-m", "territory", "store", "maintain", "--store", url],
                stdout=log,
                stderr=log,
                env={
                    **os.environ,
                    "TERRITORY_RETENTION__RAW_DAYS": "1",
                    "TERRITORY_MAINTENANCE__EVERY_S": "1",
                },
                cwd=REPO,
            )
        first = snapshot(worker)
        deadline = time.monotonic() + args.timeout
        while not day_gone(log_path.read_text()) and time.monotonic() < deadline:
            time.sleep(0.5)
        beside = phase(first, snapshot(worker))
    finally:
        if maintainer is not None:
            maintainer.terminate()
            maintainer.wait(60)
        load.stop()
        worker.stop()
        broker.stop()
    lines = [line for line in log_path.read_text().splitlines() if "maintenance: " in line]
    print(f"[{name}, {label}] alone {alone}, beside {beside}", flush=True)
    return Measure(
        name,
        label,
        alone,
        beside,
        written,
        [line.split("maintenance: ", 1)[1] for line in lines],
    )


# -- the stores --------------------------------------------------------------------------------


def sqlite_measures(
    folder: Path, readings: list[Reading], args: argparse.Namespace
) -> list[Measure]:
    def gone(log: str) -> bool:
        return "raw days dropped" in log and "given back" in log

    found = []
    for offered in args.rates:
        url = f"sqlite:///{folder}/ingest-{time.monotonic_ns()}.db"
        found.append(measure("sqlite", url, folder, readings, offered, args, gone))
    return found


def influx_measures(
    folder: Path, readings: list[Reading], args: argparse.Namespace
) -> list[Measure]:
    # influxd's own retention is not left to run on its timer: the bench drops the old
    # day's shard (what that timer does) once the maintainer has closed the day's rollups,
    # as a maintainer keeping up has long before a day ages out.
    server = services.Influxd(folder / "influxd")
    server.start()
    found = []
    try:
        for offered in args.rates:
            database = f"ingest{time.monotonic_ns()}"

            def gone(log: str, database: str = database) -> bool:
                if "of 86400 s" not in log:
                    return False
                for shard in _old_raw_shards(server.url, database):
                    query = {"q": f"DROP SHARD {shard}"}
                    httpx.post(f"{server.url}/query", data=query, timeout=300)
                return True

            url = server.store_url(database)
            found.append(measure("influxdb", url, folder, readings, offered, args, gone))
    finally:
        server.stop()
    return found


def _old_raw_shards(url: str, database: str) -> list[int]:
    answer = httpx.get(f"{url}/query", params={"q": "SHOW SHARDS"}).json()
    day = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - 2 * 86_400))
    return [
        int(row[0])
        for series in answer["results"][0].get("series", [])
        if series["name"] == database
        for row in series["values"]
        if row[2] == "raw" and row[4] == day
    ]


# -- the report --------------------------------------------------------------------------------


def report(measures: list[Measure], args: argparse.Namespace, devices: int) -> str:
    rows = [
        [
            m.store,
            m.offered,
            f"{m.alone.rate:,.0f}",
            f"{m.beside.rate:,.0f} ({m.beside.rate / m.alone.rate:.0%})",
            f"{m.alone.p50_ms:.0f} / {m.alone.p99_ms:.0f}",
            f"{m.beside.p50_ms:.0f} / {m.beside.p99_ms:.0f}",
            f"{m.beside.seconds:.0f}",
        ]
        for m in measures
    ]
    table = markdown_table(
        [
            "store",
            "offered",
            "stored/s alone",
            "stored/s, maintainer beside",
            "lag ms p50 / p99 alone",
            "lag ms p50 / p99 beside",
            "s until the day was gone",
        ],
        rows,
    )
    logs = "\n".join(
        f"- {m.store}, {m.offered}: " + (" | ".join(m.maintainer_log[:4]) or "no pass reported")
        for m in measures
    )
    return f"""## Ingest beside the maintainer (`bench/maintenance.py`)

A running `territory ingest` worker (one, MQTT 5, a real mosquitto, {PUBLISHERS}
`mosquitto_pub -l` publishers) measured for {args.seconds} s alone, then with `territory
store maintain` beside it (raw retention 1 day, a pass a second, `maintenance.duty` 0.1,
`maintenance.nice` 10) until an old day of the metropolis ({measures[0].old_day:,} readings
of {devices:,} devices two days back: {args.minutes:.0f} simulated minutes {args.copies} times)
had its 15-minute and daily rollups closed and was gone (SQLite: its table dropped and its
space given back; InfluxDB: its shard dropped, as influxd's retention does). Stored/s from the worker's
counters over each phase; lag = publish → durable write, from the worker's histogram over
each phase. Target: at the metropolis's rate (555 readings/s) the rate beside within 10 %
of the rate alone.

{table}

Maintenance passes (first four):
{logs}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="Simulated minutes a copy.")
    parser.add_argument("--copies", type=int, default=2, help="Copies over the old day.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Length of the alone phase.")
    parser.add_argument("--timeout", type=float, default=600.0, help="Longest phase beside.")
    parser.add_argument("--only", choices=["sqlite", "influx"], help="One store only.")
    parser.add_argument("--record", action="store_true", help="Write docs/performance.md too.")
    parser.add_argument("--scenario", type=Path, default=SCENARIO, help="Another territory.")
    args = parser.parse_args()
    args.rates = [METROPOLIS_RATE, 10 * METROPOLIS_RATE]
    started = time.perf_counter()
    print(f"generating {args.minutes:.0f} minutes of {args.scenario.stem}...", flush=True)
    readings, _ = generate(args.scenario, args.minutes)
    devices = len({r.device_id for r in readings})
    measures: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix="bench-maintenance-") as folder:
        if args.only in (None, "sqlite"):
            measures += sqlite_measures(Path(folder), readings, args)
        if args.only in (None, "influx"):
            measures += influx_measures(Path(folder), readings, args)
    text = report(measures, args, devices)
    print(text)
    print(f"(the run took {time.perf_counter() - started:.0f} s)")
    if args.record:
        record("maintenance", text)


if __name__ == "__main__":
    main()
