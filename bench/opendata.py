"""Benchmark of the open usage indicators: one day of a territory's history turned into
each dataset's table, as the first (uncached) public request computes it.

A SQLite store is filled with 24 hours of readings of every device of a scenario (demo
by default) at its reporting periods; each dataset is then computed through the console's
own route code. Reported: readings stored, and per dataset the seconds to answer.

    python bench/opendata.py [--territory FILE] [--hours 24] [--record]

`--record` also writes the figures into docs/performance.md (section "opendata").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository in place of bench/ (whose ocpp.py would hide the ocpp package).
sys.path[0] = str(REPO)

from bench.report import markdown_table, record  # noqa: E402
from devices.inventory import accept_scenarios, scenario_inventory  # noqa: E402
from devices.scenario import load_scenario  # noqa: E402
from territory.readings import Reading  # noqa: E402
from territory.store.sqlite import SqliteStore  # noqa: E402
from territory.tokens import hash_token, new_token  # noqa: E402

FIELDS = {
    "meter": {"activePower": 1.2, "activeEnergyImport": 100.0},
    "ev_charger": {"status": "charging", "powerConsumption": 7.0, "maxPower": 22.0, "feeder": "f"},
    "bike_station": {"availableBikeNumber": 5, "freeSlotNumber": 5, "totalSlotNumber": 10},
    "feeder": {"activePower": 100.0, "powerLimit": 200.0},
    "air": {"pm25": 10.0, "pm10": 20.0, "no2": 30.0},
    "transit_counter": {"boardings": 20},
}


def fill(store: SqliteStore, territory: Path, hours: int, end: float) -> int:
    scenario = load_scenario(territory)
    inventory = scenario_inventory(scenario)
    periods = scenario.periods.model_dump()
    written = 0
    batch: list[Reading] = []
    for device in inventory.devices:
        fields = FIELDS.get(device.kind)
        if fields is None:
            continue
        period = periods[device.kind]
        ts = end - hours * 3600
        seq = 0
        while ts < end:
            batch.append(
                Reading(
                    device.kind,
                    device.zone,
                    device.id,
                    int(ts * 1e9),
                    seq,
                    dict(fields),
                    int(ts * 1e9),
                )
            )
            ts += period
            seq += 1
        if len(batch) > 50_000:
            written += store.write(batch).stored
            batch = []
    written += store.write(batch).stored
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--territory", type=Path, default=REPO / "config/territories/demo.yaml")
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--record", action="store_true", help="Write docs/performance.md too.")
    args = parser.parse_args()
    accept_scenarios()
    from fastapi.testclient import TestClient

    from dashboard.app import create_app
    from dashboard.config import ConsoleConfig
    from dashboard.opendata.config import load_opendata_config
    from dashboard.opendata.indicators import INDICATORS

    folder = Path(tempfile.mkdtemp(prefix="bench-opendata-"))
    end = (time.time() // 3600) * 3600
    store = SqliteStore(folder / "territory.db")
    started = time.perf_counter()
    stored = fill(store, args.territory, args.hours, end)
    store.close()
    print(f"{stored} readings of {args.hours} h stored in {time.perf_counter() - started:.1f} s")
    # The indicators are public: the console's one token (made for this run) is not used.
    config = ConsoleConfig.model_validate(
        {"tokens": [{"name": "bench", "role": "viewer", "token_hash": hash_token(new_token())}]}
    )
    app = create_app(
        f"sqlite:///{folder}/territory.db",
        config=config,
        territory_file=args.territory,
        opendata=load_opendata_config(REPO / "config/opendata.yaml"),
    )
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end - args.hours * 3600))
    stop = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end))
    rows: list[list[object]] = []
    with TestClient(app) as client:
        for dataset in INDICATORS:
            began = time.perf_counter()
            answer = client.get(f"/opendata/{dataset}.json", params={"start": start, "end": stop})
            cold = time.perf_counter() - began
            began = time.perf_counter()
            client.get(f"/opendata/{dataset}.json", params={"start": start, "end": stop})
            warm = time.perf_counter() - began
            count = len(answer.json()["rows"])
            print(
                f"{dataset:22s} {count:5d} rows  first {cold:6.2f} s  cached {warm * 1000:6.1f} ms"
            )
            rows.append([dataset, count, f"{cold:.2f} s", f"{warm * 1000:.0f} ms"])
    text = f"""## Open data: usage indicators (`bench/opendata.py`)

The {args.territory.stem} territory's {args.hours} h ({stored:,} readings, SQLite): the first,
uncached request of each hourly indicator table over the whole period, then the same request
from the cache. No target in the issue; measured so that a portal's harvest is known to be
cheap after the first.

{markdown_table(["dataset", "rows", "first request", "cached"], rows)}
"""
    print(text)
    if args.record:
        record("opendata", text)


if __name__ == "__main__":
    main()
