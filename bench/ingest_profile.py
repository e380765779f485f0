"""Where one ingest worker's time goes: a cProfile of draining a queued backlog.

N meter readings are queued at QoS 1 for the worker's persistent session while it is
away; the worker then reconnects and drains them into SQLite under cProfile, with no
publisher competing for the CPU. The profile's own time is grouped by component.

    python bench/ingest_profile.py [--messages 50000] [--protocol 5]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository in place of bench/ (whose ocpp.py would hide the ocpp package).
sys.path[0] = str(REPO)

from bench.ingest import meter_line  # noqa: E402
from bench.report import markdown_table, record  # noqa: E402
from ingest.worker import IngestWorker  # noqa: E402
from ingest.writer import BatchWriter  # noqa: E402
from territory.bus import BrokerAddress  # noqa: E402
from territory.settings import IngestSettings  # noqa: E402
from territory.store.sqlite import SqliteStore  # noqa: E402
from tests.services import Mosquitto, find_binary  # noqa: E402

# (component, substring of the profiled function's file or name), first match wins.
COMPONENTS = [
    ("MQTT: ingest/client.py (short path)", "ingest/client.py"),
    ("MQTT: paho", "paho/"),
    ("decode + validate (territory/decode.py, kinds.py, pydantic-core)", "territory/decode"),
    ("decode + validate (territory/decode.py, kinds.py, pydantic-core)", "territory/kinds"),
    ("decode + validate (territory/decode.py, kinds.py, pydantic-core)", "pydantic"),
    ("decode + validate (territory/decode.py, kinds.py, pydantic-core)", "territory/topics"),
    ("store: SQLite", "sqlite"),
    ("metrics: prometheus-client", "prometheus_client"),
    ("worker, batch, writer thread", "ingest/"),
    ("sockets", "socket"),
    ("built-ins (len, list and bytes operations, ...)", "~"),
]


# Blocking calls: their time is waiting (the writer thread idle, select() with nothing to
# read, the fsync of a commit), not work, so they are left out of the shares.
WAITING = (
    "acquire' of '_thread.lock",
    "select.select",
    "method 'get' of '_queue",
    "'__exit__' of 'sqlite3.Connection'",  # the commit: mostly its fsync
)


def queue_backlog(broker: Mosquitto, url: str, settings: IngestSettings, count: int) -> None:
    """Create the worker's session, leave, and publish `count` readings for it."""
    worker = IngestWorker(BrokerAddress.from_url(url), SqliteStore(":memory:"), settings)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    if not worker.wait_subscribed(10):
        raise RuntimeError("the worker did not subscribe")
    stop.set()
    thread.join()
    previous_us = [0]
    lines = b"".join(meter_line(n, previous_us) for n in range(count))
    topic = "territory/z1/meter/m-1/telemetry"
    command = [find_binary("mosquitto_pub"), "-p", str(broker.port), "-q", "1", "-M", "1000"]
    subprocess.run([*command, "-t", topic, "-l"], input=lines, check=True)


def drain(
    url: str, settings: IngestSettings, store: SqliteStore, count: int
) -> tuple[float, float, pstats.Stats]:
    worker = IngestWorker(BrokerAddress.from_url(url), store, settings)
    stop = threading.Event()

    def watch() -> None:
        while worker.metrics.stored._value.get() < count:
            time.sleep(0.01)
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    profile = cProfile.Profile()
    started, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    worker.run(stop)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.add(WRITER_PROFILE)
    return time.perf_counter() - started, time.process_time() - cpu, stats


# cProfile sees one thread: the writer thread gets a profile of its own.
WRITER_PROFILE = cProfile.Profile()
_unprofiled_run = BatchWriter._run


def _profiled_run(writer: BatchWriter) -> None:
    WRITER_PROFILE.runcall(_unprofiled_run, writer)


BatchWriter._run = _profiled_run  # type: ignore[method-assign]


def by_component(stats: pstats.Stats) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{function}"
        if any(wait in where for wait in WAITING):
            continue
        name = next((c for c, key in COMPONENTS if key in where), "other")
        totals[name] = totals.get(name, 0.0) + row[2]
    return sorted(totals.items(), key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--protocol", default="5", choices=["5", "3.1.1"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder / "mosquitto")
        broker.start()
        try:
            url = f"{broker.url}?protocol={args.protocol}"
            settings = IngestSettings(client_id="profile", deadletter_publish=False)
            queue_backlog(broker, url, settings, args.messages)
            store = SqliteStore(folder / "profile.db")
            wall, cpu, stats = drain(url, settings, store, args.messages)
            store.close()
        finally:
            broker.stop()
    total = sum(seconds for _, seconds in by_component(stats))
    rows: list[list[object]] = [
        [name, f"{seconds / total:.0%}"] for name, seconds in by_component(stats)
    ]
    table = markdown_table(["component", "share of the worker's own time"], rows)
    print(f"{args.messages:,} messages drained in {wall:.2f} s under cProfile ({cpu:.2f} s CPU)")
    print(table)
    stats.sort_stats("tottime").print_stats(12)
    record(
        "ingest-profile",
        f"### Where a worker's time goes (`bench/ingest_profile.py`)\n\n"
        f"{args.messages:,} queued QoS 1 readings drained into SQLite under cProfile, MQTT "
        f"{args.protocol}, no publisher competing for the CPU ({wall:.2f} s under the "
        f"profiler). Share of the profiled time per component, both threads (reading and "
        f"writing), time spent waiting (select, an idle writer, the fsync of each commit) "
        f"left out:\n\n{table}",
    )


if __name__ == "__main__":
    main()
