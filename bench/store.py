"""A month of the metropolis in each store (SQLite and InfluxDB, side by side), measured
on a slice and extrapolated, every extrapolated figure labelled as such.

A metropolis month is some 1.4 billion readings (28,260 devices, about 555 a second):
more than this machine writes in a session. So the run measures on:

- raw readings: the metropolis twin's readings (decoded as ingest decodes them) for
  `--minutes` of simulated time, every device, written twice through the stores' bulk
  path (`Store.write`, batches of 5,000: not over MQTT): slice A two days back, then
  slice B in the last hour while `territory store maintain` runs in another process
  (expiring slice A's day, closing rollups), so the two write rates compare ingest
  without and with maintenance;
- rollups: computed for every device over slice B (its 15-minute bins), then copied over
  30 days for a sample of devices (10 feeders with their chargers and PV arrays, and a
  few stations), the daily rollups built from them;
- queries, median and p99: one device over 30 days at 15 minutes, one zone's feeders
  over a day at 1 minute (a full day of raw readings is written for them) and summed over
  it at 1 minute, the sample's 10 feeders summed over 30 days at 1 hour, the latest
  reading of every meter (20,000) and of every device (28,260), a feeder's base-load
  forecast from 4 weeks of rollups;
- expiry: slice A's day dropped by the maintainer while slice B is written, then slice
  B's day dropped and its space handed back, timed.

Then it extrapolates to the month (7 days raw, 30 days of rollups), to a day's rollups
and to expiring a day, linearly in readings or device-bins.

    python bench/store.py [--minutes 30] [--only sqlite|influx] [--record]

Prints the figures; `--record` also writes them into docs/performance.md (section
"store").
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository in place of bench/ (whose ocpp.py would hide the ocpp package).
sys.path[0] = str(REPO)

import httpx  # noqa: E402

import tests.services as services  # noqa: E402
from bench.report import markdown_table, record  # noqa: E402
from devices.clock import VirtualClock  # noqa: E402
from devices.scenario import load_scenario  # noqa: E402
from devices.twin import Twin  # noqa: E402
from optimiser.forecast import blend, profile_of  # noqa: E402
from optimiser.forecast_history import binned  # noqa: E402
from territory.collector import tune_collector  # noqa: E402
from territory.decode import decode  # noqa: E402
from territory.readings import Reading  # noqa: E402
from territory.settings import RetentionSettings, RollupSettings  # noqa: E402
from territory.store import Store, open_store  # noqa: E402
from territory.store.history import series  # noqa: E402
from territory.store.influx import InfluxStore  # noqa: E402
from territory.store.influx_retention import apply_policies  # noqa: E402
from territory.store.lifecycle import Pace  # noqa: E402
from territory.store.maintenance import for_maintenance, rollup_engine  # noqa: E402
from territory.store.rollups import Rollup, Summary, combine  # noqa: E402
from territory.store.sqlite import SqliteStore  # noqa: E402
from territory.store.zone_history import zone_series  # noqa: E402

SCENARIO = REPO / "config/territories/metropolis.yaml"
NS = 1_000_000_000
DAY_NS = 86_400 * NS
MONTH_DAYS, RAW_DAYS = 30, 7
BATCH = 5000
SAMPLE_FEEDERS = 10
SETTINGS = RollupSettings()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(function: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, p99) of `runs` calls, in milliseconds."""
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took), percentile(took, 0.99)


# -- the slice -----------------------------------------------------------------------------


class Collect:
    """The twin's sink: every message decoded as ingest decodes it."""

    def __init__(self) -> None:
        self.readings: list[Reading] = []
        self.twin: Twin | None = None

    def publish(self, topic: str, payload: bytes) -> None:
        assert self.twin is not None
        arrival = int(self.twin.t * 1e9) + 40_000_000
        self.readings.extend(decode(topic, payload, arrival_ns=arrival).readings)


def generate(scenario: Path, minutes: float) -> tuple[list[Reading], float]:
    """A territory's readings over `minutes`, device times from 0 (shifted when written)."""
    sink = Collect()
    started = time.perf_counter()
    twin = Twin(load_scenario(scenario), VirtualClock(0.0), sink, seed=1)
    sink.twin = twin
    twin.run_until(twin.start + minutes * 60)
    base = int(twin.start * 1e9)
    readings = [
        replace(r, ts_ns=r.ts_ns - base, arrival_ns=r.arrival_ns - base) for r in sink.readings
    ]
    return readings, time.perf_counter() - started


def batches(readings: list[Reading], start_ns: int, seq0: int = 0) -> Iterator[list[Reading]]:
    for index in range(0, len(readings), BATCH):
        yield [
            replace(
                r, ts_ns=start_ns + r.ts_ns, arrival_ns=start_ns + r.arrival_ns, seq=seq0 + r.seq
            )
            for r in readings[index : index + BATCH]
        ]


def write_all(store: Store, chunks: Iterator[list[Reading]]) -> tuple[int, float]:
    """(readings, seconds) of writing every batch; the batches are made outside the clock."""
    count, busy = 0, 0.0
    for batch in chunks:
        started = time.perf_counter()
        store.write(batch)
        busy += time.perf_counter() - started
        count += len(batch)
    return count, busy


def zone_day(readings: list[Reading], zone: str, day_start: int) -> list[Reading]:
    """A zone's feeders over a whole day, a reading every 10 s, so a day at 1 minute reads a
    day of raw readings whatever the slice's length."""
    feeders = sorted({r.device_id for r in readings if r.kind == "feeder" and r.zone == zone})
    return [
        Reading(
            "feeder",
            zone,
            f,
            day_start + i * 10 * NS,
            10**6 + i,
            {"activePower": 100.0 + i % 50, "powerLimit": 400.0},
            day_start + i * 10 * NS,
        )
        for f in feeders
        for i in range(8640)
    ]


@dataclass
class Sample:
    """The devices given 30 days of rollups: feeders, theirs chargers and PV, stations."""

    feeders: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """feeder -> [(device, attribute)] of what its forecast reads."""
    stations: list[str] = field(default_factory=list)

    @property
    def devices(self) -> list[str]:
        found = {d for parts in self.feeders.values() for d, _ in parts} | set(self.stations)
        return sorted(found)


def sample_of(readings: list[Reading]) -> Sample:
    sample = Sample()
    feeders = sorted({r.device_id for r in readings if r.kind == "feeder"})[:SAMPLE_FEEDERS]
    for feeder in feeders:
        sample.feeders[feeder] = [(feeder, "activePower")]
    seen = set()
    for r in readings:
        feeder = r.fields.get("feeder")
        if r.kind in ("ev_charger", "pv") and feeder in sample.feeders and r.device_id not in seen:
            seen.add(r.device_id)
            attribute = "powerConsumption" if r.kind == "ev_charger" else "activePower"
            sample.feeders[str(feeder)].append((r.device_id, attribute))
    sample.stations = sorted({r.device_id for r in readings if r.kind == "bike_station"})[:20]
    return sample


def month_of_rollups(
    store: Store, sample: Sample, slice_rollups: dict[str, list[Rollup]], now_ns: int
) -> float:
    """Copy each sample device's computed bins over the 30 days before now, 15-minute and
    daily; returns the seconds the writes took."""
    engine = rollup_engine(store, SETTINGS)
    first_day = now_ns // DAY_NS * DAY_NS - MONTH_DAYS * DAY_NS
    took = 0.0
    for day in range(MONTH_DAYS):
        day_start = first_day + day * DAY_NS
        fine, daily = [], []
        for device in sample.devices:
            model = slice_rollups.get(device)
            if not model:
                continue
            bins = [_moved(model[i % len(model)], day_start + i * 900 * NS) for i in range(96)]
            fine += bins
            daily.append(combine(bins, 86_400, day_start))
        started = time.perf_counter()
        engine.backend.write_rollups(900, fine)
        engine.backend.write_rollups(86_400, daily)
        took += time.perf_counter() - started
    return took


def _moved(rollup: Rollup, start_ns: int) -> Rollup:
    shift = start_ns - rollup.start_ns
    numbers = {
        name: Summary(s.count, s.mean, s.min, s.max, s.last, s.last_ns + shift)
        for name, s in rollup.numbers.items()
    }
    return replace(rollup, start_ns=start_ns, numbers=numbers)


# -- a store ---------------------------------------------------------------------------------


@dataclass
class Figures:
    store: str
    raw: int = 0
    raw_bytes_per_reading: float = 0.0
    rate_alone: float = 0.0
    rate_maintained: float = 0.0
    maintenance_log: list[str] = field(default_factory=list)
    rollup_bins_s: float = 0.0
    """Seconds to compute the 15-minute rollups of every device over the slice."""
    daily_s_per_device: float = 0.0
    """Seconds to build one device's daily rollup from its 96 fifteen-minute ones."""
    slice_bins: int = 0
    rollup_bytes_per_device_day: float = 0.0
    """From the sample's 30 days (feeders, chargers, PV, stations: heavier than a meter)."""
    fleet_bytes_per_device_day: float = 0.0
    """SQLite: from one 15-minute rollup of every device (the fleet's mix), times 97."""
    expire_work_s: float = 0.0
    expire_wall_s: float = 0.0
    expired_readings: int = 0
    queries: dict[str, tuple[float, float]] = field(default_factory=dict)


def run_store(
    name: str,
    folder: Path,
    url: str,
    readings: list[Reading],
    minutes: float,
    raw_bytes: Callable[[], int],
    sample_url: str,
    sample_rollup_bytes: Callable[[], int],
    expire_day: Callable[[Store, int], tuple[float, float]],
) -> Figures:
    figures = Figures(name)
    now = time.time_ns()
    slice_ns = int(minutes * 60 * NS)
    a_start = now // DAY_NS * DAY_NS - 2 * DAY_NS + 12 * 3600 * NS
    b_start = (now - 5 * 60 * NS - slice_ns) // (900 * NS) * (900 * NS)
    store = open_store(url)

    print(
        f"[{name}] slice A ({len(readings):,} readings, two days back), nothing else running",
        flush=True,
    )
    before = raw_bytes()
    figures.raw, seconds = write_all(store, batches(readings, a_start))
    figures.rate_alone = figures.raw / seconds
    figures.raw_bytes_per_reading = (raw_bytes() - before) / figures.raw

    # Slice A rolled up (and the bins since, empty): the maintainer beside slice B finds
    # slice A's day ready to go, as a maintainer keeping up would each day.
    for_maintenance(store)
    rollup_engine(store, SETTINGS).refresh(time.time_ns(), max_bins=10_000)

    print(f"[{name}] slice B, `territory store maintain` running beside", flush=True)
    log_path = Path(tempfile.mkstemp(suffix=".log")[1])
    environment = {**os.environ, "TERRITORY_RETENTION__RAW_DAYS": "1"}
    with log_path.open("w") as log:
        maintainer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "territory",
                "store",
                "maintain",
                "--store",
                url,
                "--every",
                "1s",
            ],
            stdout=log,
            stderr=log,
            env=environment,
            cwd=REPO,
        )
        try:
            time.sleep(3)  # started, and at work on slice A's day, before slice B comes
            count, seconds = write_all(store, batches(readings, b_start, seq0=10**7))
            _first_pass(log_path, 90)
        finally:
            maintainer.terminate()
            maintainer.wait(60)
    figures.rate_maintained = count / seconds
    if isinstance(store, InfluxStore):  # back to the defaults the rest of the run reads
        apply_policies(store, RetentionSettings())
    figures.maintenance_log = [
        line.split(" store ", 1)[-1]
        for line in log_path.read_text().splitlines()
        if "maintenance" in line
    ]
    if "Traceback" in log_path.read_text():
        print(f"[{name}] the maintainer failed:\n{log_path.read_text()}", flush=True)
    log_path.unlink()

    print(f"[{name}] rollups of every device over slice B", flush=True)
    for_maintenance(store)
    engine = rollup_engine(store, SETTINGS)
    started = time.perf_counter()
    engine.rebuild(b_start, b_start + slice_ns, time.time_ns())
    figures.rollup_bins_s = time.perf_counter() - started
    if name == "sqlite":
        every = engine.backend.read_rollups(900, b_start, b_start + slice_ns)
        figures.fleet_bytes_per_device_day = fleet_row_bytes(every, folder) * 97
    # As in steady state, where the maintainer keeps the watermarks near now.
    engine.backend.set_watermark("closed_900", b_start + slice_ns)
    figures.slice_bins = slice_ns // (900 * NS)

    sample = sample_of(readings)
    computed = engine.backend.read_rollups(900, b_start, b_start + slice_ns, sample.devices)
    by_device: dict[str, list[Rollup]] = defaultdict(list)
    for rollup in computed:
        by_device[rollup.device_id].append(rollup)
    # The sample's month in a store of its own, so that its size is its alone.
    print(f"[{name}] 30 days of rollups for {len(sample.devices)} devices", flush=True)
    sample_store = open_store(sample_url)
    if isinstance(sample_store, SqliteStore):  # rollups name devices by the store's numbers
        with sample_store.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO devices (device_id) VALUES (?)",
                [(d,) for d in sample.devices],
            )
    month_of_rollups(sample_store, sample, by_device, now)
    rolled = [d for d in sample.devices if by_device.get(d)]
    figures.rollup_bytes_per_device_day = sample_rollup_bytes() / (len(rolled) * MONTH_DAYS)
    sampled = rollup_engine(sample_store, SETTINGS)
    sampled.backend.set_watermark("closed_900", now // DAY_NS * DAY_NS)
    # A day's daily rollups, from its 96 fifteen-minute ones, for the sample's devices.
    day = now // DAY_NS * DAY_NS - 2 * DAY_NS
    started = time.perf_counter()
    for index in range(0, len(rolled), sampled.device_chunk):
        chunk = rolled[index : index + sampled.device_chunk]
        sampled.backend.write_rollups(86_400, sampled._combine(900, 86_400, day, chunk))
    figures.daily_s_per_device = (time.perf_counter() - started) / len(rolled)

    print(f"[{name}] queries", flush=True)
    zone = next(r.zone for r in readings if r.kind == "feeder")
    zone_start = now - DAY_NS - 15 * 60 * NS
    for chunk in [zone_day(readings, zone, zone_start)]:
        write_all(store, iter([chunk[i : i + BATCH] for i in range(0, len(chunk), BATCH)]))
    figures.queries = queries(store, sample_store, sample, zone, zone_start, now)
    sample_store.close()

    # Slice A's day went while slice B was written; slice B's day goes now, timed.
    print(f"[{name}] expiring slice B's day", flush=True)
    figures.expired_readings = figures.raw
    figures.expire_work_s, figures.expire_wall_s = expire_day(store, b_start)
    store.close()
    return figures


def _first_pass(log_path: Path, timeout_s: float) -> None:
    """Wait for the maintainer to report a pass that did something (its log line)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and "maintenance: " not in log_path.read_text():
        time.sleep(0.5)


def fleet_row_bytes(rollups: list[Rollup], folder: Path) -> float:
    """Bytes per 15-minute rollup row at the fleet's mix of kinds: one bin of every device
    written into a file of its own, its table measured (dbstat)."""
    from territory.store.sqlite_rollups import SqliteRollups

    scratch = SqliteStore(folder / "rows.db")
    with scratch.transaction() as db:
        db.executemany(
            "INSERT OR IGNORE INTO devices (device_id) VALUES (?)",
            [(r.device_id,) for r in rollups],
        )
    SqliteRollups(scratch).write_rollups(900, rollups)
    with scratch.reading() as db:
        (used,) = db.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name GLOB 'rollup_900_*'"
        ).fetchone()
    scratch.close()
    return float(used) / len(rollups)


def queries(
    store: Store, sample_store: Store, sample: Sample, zone: str, zone_start: int, now: int
) -> dict[str, tuple[float, float]]:
    feeders_of_zone = [r.device_id for r in store.latest(kind="feeder", zone=zone)]
    month_ago = now - MONTH_DAYS * DAY_NS
    stations = iter(sample.stations * 100)
    found = {
        "one device, 30 days at 15 min": timed(
            lambda: series(sample_store, next(stations), month_ago, now, 900, SETTINGS), 40
        ),
        "a zone's feeders, a day at 1 min": timed(
            lambda: [
                series(store, f, zone_start, zone_start + DAY_NS, 60, SETTINGS)
                for f in feeders_of_zone
            ],
            10,
        ),
        "latest of every meter (20,000)": timed(lambda: store.latest(kind="meter"), 5),
        "latest of every device (28,260)": timed(lambda: store.latest(), 5),
    }
    # At 1 minute: from the raw day (its rollups are not made: the day is written after).
    found["a zone's feeders summed, a day at 1 min"] = timed(
        lambda: zone_series(
            store, feeders_of_zone, "feeder", zone_start, zone_start + DAY_NS, 60, SETTINGS
        ),
        10,
    )
    sampled_feeders = sorted(sample.feeders)
    found["10 feeders summed, 30 days at 1 h (rollups)"] = timed(
        lambda: zone_series(
            sample_store, sampled_feeders, "feeder", month_ago, now, 3600, SETTINGS
        ),
        10,
    )
    feeders = iter(list(sample.feeders.items()) * 10)
    found["a feeder's forecast, 4 weeks of rollups"] = timed(
        lambda: forecast(sample_store, *next(feeders), now), 20
    )
    return found


def forecast(store: Store, feeder: str, parts: list[tuple[str, str]], now: int) -> object:
    """What BaseLoadForecaster does for one feeder: its base load per bin over 4 weeks
    (head - charging + PV), the hour-of-week profile, a day ahead."""
    start = now - 28 * DAY_NS
    base: dict[int, float] = {}
    for device, attribute in parts:
        sign = 1.0 if device == feeder else (-1.0 if attribute == "powerConsumption" else 1.0)
        for ts, total, count in binned(store, device, attribute, start, now, 900.0):
            b = int(ts // 900)
            if device == feeder:
                base[b] = total / count
            elif b in base:
                base[b] += sign * total / count
    sums, counts = profile_of(base, 900.0)
    return blend(sums, counts, 50.0, now / 1e9, 96, 900.0, 7200.0)


# -- the backends ------------------------------------------------------------------------------


def sqlite_run(readings: list[Reading], minutes: float, folder: Path) -> Figures:
    from territory.store.sqlite_layout import day_of
    from territory.store.sqlite_retention import expire_raw, reclaim

    path = folder / "metropolis.db"
    url = f"sqlite:///{path}"

    def table_bytes(file: Path, pattern: str) -> Callable[[], int]:
        def measure() -> int:
            if not file.exists():
                return 0
            db = sqlite3.connect(file)
            try:
                (used,) = db.execute(
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name GLOB ?", (pattern,)
                ).fetchone()
            finally:
                db.close()
            return int(used)

        return measure

    def expire_day(store: Store, a_start: int) -> tuple[float, float]:
        assert isinstance(store, SqliteStore)
        pace = Pace(1.0)
        started = time.perf_counter()
        expire_raw(store, (day_of(a_start) + 1) * DAY_NS, pace)
        reclaim(store, pace)
        work = time.perf_counter() - started
        return work, work / 0.1  # at the default duty, maintenance.duty = 0.1

    return run_store(
        "sqlite",
        folder,
        url,
        readings,
        minutes,
        table_bytes(path, "raw_*"),
        f"sqlite:///{folder / 'sample.db'}",
        table_bytes(folder / "sample.db", "rollup_*"),
        expire_day,
    )


INFLUX_EXTRA = """  cache-snapshot-write-cold-duration = "2s"
  compact-full-write-cold-duration = "5s"
  max-series-per-database = 0
  max-values-per-tag = 0
"""
# Slice A's day is dropped by the bench (DROP SHARD, timed), not by influxd meanwhile.
INFLUX_RETENTION = """
[retention]
  check-interval = "24h"
"""


def influx_run(readings: list[Reading], minutes: float, folder: Path) -> Figures:
    original = services._influx_config

    def configured(*args: object) -> str:
        text = original(*args)  # type: ignore[arg-type]
        text = text.replace(
            '  wal-fsync-delay = "0s"\n', '  wal-fsync-delay = "0s"\n' + INFLUX_EXTRA
        )
        return text + INFLUX_RETENTION

    services._influx_config = configured  # type: ignore[assignment]
    server = services.Influxd(folder / "influxd")
    server.start()

    def policy_bytes(database: str, policy: str) -> Callable[[], int]:
        where = folder / "influxd" / "data" / database / policy

        def size() -> int:
            return sum(p.stat().st_size for p in where.rglob("*") if p.is_file())

        def measure() -> int:
            """Once the shards are fully compacted: past the cold duration after which
            influxd compacts a shard whole, then the size the same three times in a row
            five seconds apart, no compaction under way."""
            if not where.exists():
                return 0
            time.sleep(10)
            sizes, deadline = [size()], time.monotonic() + 240
            while time.monotonic() < deadline:
                time.sleep(5)
                sizes.append(size())
                steady = len(sizes) >= 3 and len(set(sizes[-3:])) == 1
                if steady and not list(where.rglob("*.tmp")):
                    return sizes[-1]
            return size()

        return measure

    def expire_day(store: Store, a_start: int) -> tuple[float, float]:
        shards = httpx.get(f"{server.url}/query", params={"q": "SHOW SHARDS"}).json()
        rows = shards["results"][0]["series"]
        day = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(a_start / 1e9))
        ids = [row[0] for s in rows for row in s["values"] if row[2] == "raw" and row[4] == day]
        started = time.perf_counter()
        for shard in ids:
            httpx.post(f"{server.url}/query", data={"q": f"DROP SHARD {shard}"})
        took = time.perf_counter() - started
        return took, took

    try:
        return run_store(
            "influxdb",
            folder,
            server.store_url("metropolis"),
            readings,
            minutes,
            policy_bytes("metropolis", "raw"),
            server.store_url("sample"),
            policy_bytes("sample", "rollups"),
            expire_day,
        )
    finally:
        server.stop()


# -- the report ------------------------------------------------------------------------------


def report(all_figures: list[Figures], minutes: float, generated_s: float, devices: int) -> str:
    per_day = 555 * 86_400
    rows = []
    for f in all_figures:
        raw_month = f.raw_bytes_per_reading * per_day * RAW_DAYS
        per_device_day = f.fleet_bytes_per_device_day or f.rollup_bytes_per_device_day
        rollups_month = per_device_day * devices * MONTH_DAYS
        day_rollups = (f.rollup_bins_s / f.slice_bins) * 96 + f.daily_s_per_device * devices
        expire_scale = per_day / f.expired_readings
        rows.append(
            [
                f.store,
                f"{f.raw_bytes_per_reading:.1f}",
                f"{per_device_day / 1024:.1f}"
                + (
                    f" (sample: {f.rollup_bytes_per_device_day / 1024:.1f})"
                    if f.fleet_bytes_per_device_day
                    else " (sample)"
                ),
                f"{(raw_month + rollups_month) / 1e9:.1f} (raw {raw_month / 1e9:.1f} + rollups {rollups_month / 1e9:.1f})",
                f"{day_rollups / 60:.1f}",
                f"{f.expire_work_s * expire_scale:.0f} work, {f.expire_wall_s * expire_scale / 60:.0f} min at duty 0.1"
                if f.store == "sqlite"
                else f"{f.expire_work_s * 1000:.0f} ms (DROP SHARD)",
                f"{f.rate_alone:,.0f}",
                f"{f.rate_maintained:,.0f} ({f.rate_maintained / f.rate_alone:.0%})",
            ]
        )
    table = markdown_table(
        [
            "store",
            "B per raw reading",
            "KiB per device-day of rollups",
            "metropolis month, GB (extrapolated)",
            "a day's rollups, min (extrapolated)",
            "expire a day, s (extrapolated)",
            "bulk write/s alone",
            "... with maintenance beside",
        ],
        rows,
    )
    query_rows = [
        [name, *(f"{f.queries[name][0]:.1f} / {f.queries[name][1]:.1f}" for f in all_figures)]
        for name in all_figures[0].queries
    ]
    queries_table = markdown_table(
        ["query (ms, median / p99)", *(f.store for f in all_figures)], query_rows
    )
    logs = "\n".join(
        f"- {f.store}: " + (" | ".join(f.maintenance_log[:6]) or "no pass completed")
        for f in all_figures
    )
    targets = "\n".join(_targets(f, devices) for f in all_figures)
    return f"""## Store lifecycle (`bench/store.py`)

Twin of the metropolis, {devices:,} devices, {minutes:.0f} minutes of simulated readings
({all_figures[0].raw:,}; generated and decoded in {generated_s:.0f} s) written twice per store through
the bulk path: slice A alone, slice B with `territory store maintain` beside (raw retention 1 day, so
slice A's day expires while B is written). Rollups computed for every device over slice B, then
copied over 30 days for a sample (10 feeders with their chargers and PV, 20 stations). Extrapolated
(linear): the month = 7 days of raw readings at 555/s + 30 days of rollups for {devices:,} devices;
a day's rollups = the slice's 15-minute bins × (96 / bins in the slice) + the sample's daily
rollups × ({devices:,} / devices in the sample); rollups per device-day: SQLite from one
15-minute rollup of every device (the fleet's mix of kinds) × 97, the sample's own figure beside
(its chargers and feeders are heavier than the meters that make most of the fleet), InfluxDB from
the sample (a series compresses over its month); expiring a day = the timed expiry of slice B's day × (48 million /
readings in the slice). SQLite's sizes are those of its tables (dbstat); InfluxDB's those of its
shards once compacted.

{table}

{queries_table}

{targets}

Maintenance passes while slice B was written:
{logs}
"""


def _targets(f: Figures, devices: int) -> str:
    """The issue's targets, each said met or not, for one store."""
    month_gb = (
        f.raw_bytes_per_reading * 555 * 86_400 * RAW_DAYS
        + (f.fleet_bytes_per_device_day or f.rollup_bytes_per_device_day) * devices * MONTH_DAYS
    ) / 1e9
    median, p99 = f.queries["one device, 30 days at 15 min"]
    said = [
        f"one device over 30 days at 15 minutes under 50 ms: median {median:.0f} ms "
        f"({'met' if median < 50 else 'not met'}), p99 {p99:.0f} ms "
        f"({'met' if p99 < 50 else 'not met'})"
    ]
    if f.store == "sqlite":
        met = "met" if month_gb < 30 else "not met"
        said.insert(0, f"the metropolis month under 30 GB: {met} ({month_gb:.1f} GB)")
    return f"- Targets, {f.store}: " + "; ".join(said) + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="Simulated minutes per slice.")
    parser.add_argument("--only", choices=["sqlite", "influx"], help="One store only.")
    parser.add_argument("--record", action="store_true", help="Write docs/performance.md too.")
    parser.add_argument(
        "--scenario", type=Path, default=SCENARIO, help="Another territory (a quick check)."
    )
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"generating {args.minutes:.0f} minutes of {args.scenario.stem}...", flush=True)
    readings, generated_s = generate(args.scenario, args.minutes)
    # Queries timed as the console runs them: with its collector's settings, the slice's
    # half a million readings frozen as the console freezes what it loads at start.
    tune_collector()
    devices = len({r.device_id for r in readings})
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        if args.only in (None, "sqlite"):
            figures.append(sqlite_run(readings, args.minutes, Path(folder)))
            print(figures[-1], flush=True)
        if args.only in (None, "influx"):
            figures.append(influx_run(readings, args.minutes, Path(folder)))
            print(figures[-1], flush=True)
    text = report(figures, args.minutes, generated_s, devices)
    print(text)
    print(f"(the run took {time.perf_counter() - started:.0f} s)")
    if args.record:
        record("store", text)


if __name__ == "__main__":
    main()
