"""The whole loop with real processes: simulator → mosquitto → ingest → SQLite →
optimiser → commands → simulator, asserting on what arrived where."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from territory.bus import BrokerAddress, connect, make_client
from territory.store.sqlite import SqliteStore
from tests.ingest.harness import IngestProcess
from tests.ingest.helpers import wait_until
from tests.services import REPO, Mosquitto, start_process


def territory(*args: str, log: Path) -> subprocess.Popen[bytes]:
    return start_process([sys.executable, "-m", "territory", *args], log, cwd=REPO)


def test_closed_loop_from_sensor_to_decision_and_back(mosquitto: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    store_url = f"sqlite:///{db}"
    ingest = IngestProcess(mosquitto.url, store_url, tmp_path / "ingest.log")
    ingest.start()

    commands: dict[str, dict[str, float]] = {}
    listener = make_client(BrokerAddress.from_url(mosquitto.url), "e2e-listener")
    listener.on_message = lambda c, u, m: commands.__setitem__(
        m.topic.split("/")[3], json.loads(m.payload)
    )
    connect(listener, BrokerAddress.from_url(mosquitto.url))
    listener.subscribe("territory/+/ev_charger/+/cmd", qos=1)
    listener.loop_start()

    simulator = territory(
        "simulate",
        "--mqtt",
        mosquitto.url,
        "--territory",
        "config/territories/demo.yaml",
        "--seed",
        "7",
        "--duration",
        "10m",
        log=tmp_path / "simulator.log",
    )
    store = SqliteStore(db)
    try:

        def plugged() -> list[str]:
            return [
                r.device_id
                for r in store.latest(kind="ev_charger")
                if "requestedEnergy" in r.fields
            ]

        assert wait_until(lambda: bool(plugged()) and bool(store.latest(kind="feeder")), 60), (
            "no plugged EV and feeder reading reached the store"
        )
        every_kind = {
            "meter",
            "pv",
            "feeder",
            "ev_charger",
            "bike_station",
            "traffic",
            "transit_counter",
        }
        assert wait_until(lambda: every_kind <= {r.kind for r in store.latest()}, 90)

        optimiser = territory(
            "optimise",
            "--once",
            "--mqtt",
            mosquitto.url,
            "--store",
            store_url,
            log=tmp_path / "optimiser.log",
        )
        assert optimiser.wait(120) == 0, (tmp_path / "optimiser.log").read_text()

        (plan,) = store.plans(domain="energy", limit=1)
        assert plan.status in ("optimal", "feasible", "fallback")
        assert "kpis" in plan.body
        assert wait_until(lambda: bool(commands), 20), "no set-point reached the broker"

        max_power = {
            r.device_id: float(r.fields["maxPower"]) for r in store.latest(kind="ev_charger")
        }
        for device, command in commands.items():
            assert 0 <= command["setpoint"] <= max_power[device] + 1e-6

        # The simulated chargers obey: their next readings draw no more than the set-point.
        sent_at = time.time()
        obeyed: dict[str, float] = {}

        def chargers_reported() -> bool:
            for reading in store.latest(kind="ev_charger"):
                if reading.device_id in commands and reading.ts > sent_at + 1:
                    obeyed[reading.device_id] = float(reading.fields["powerConsumption"])
            return len(obeyed) >= min(3, len(commands))

        assert wait_until(chargers_reported, 60), "commanded chargers did not report again"
        for device, power in obeyed.items():
            assert power <= commands[device]["setpoint"] + 1e-6, (device, power, commands[device])
    finally:
        store.close()
        simulator.terminate()
        simulator.wait(10)
        listener.loop_stop()
        ingest.stop()
