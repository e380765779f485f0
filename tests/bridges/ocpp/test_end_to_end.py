"""The whole loop over OCPP, with real processes: charge points → bridge → MQTT → ingest →
SQLite → optimiser → set-points → bridge → charging profiles → the vehicles draw within
the feeder's limit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from territory.store.sqlite import SqliteStore
from tests.bridges.ocpp.helpers import BridgeProcess, ChargerSpec, Listener, eventually, run
from tests.bridges.ocpp.peers import Behaviour, Connector, SimulatedStation, Station16, Station201
from tests.ingest.harness import IngestProcess
from tests.services import REPO, Mosquitto

StartBridge = Callable[..., BridgeProcess]
LIMIT_KW = 40.0
BASE_KW = 15.0
ROOM_READINGS = 60  # head-meter readings, a second apart, before the room must be used


def test_an_overloaded_feeder_is_planned_within_its_limit_over_ocpp(
    start_bridge: StartBridge, listener: Listener, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    db = tmp_path / "territory.db"
    ingest = IngestProcess(mosquitto.url, f"sqlite:///{db}", tmp_path / "ingest.log")
    ingest.start()
    specs = [ChargerSpec(f"CP-E{i}", max_kw=11.0) for i in range(4)]  # 44 kW + 15 kW base
    bridge = start_bridge(specs, {"f1": LIMIT_KW})
    behaviours = [
        Behaviour(),
        Behaviour(rate_units="Current"),
        Behaviour(),
        Behaviour(max_stack_level=0),
    ]
    fleet: list[SimulatedStation] = [
        (Station16 if i % 2 == 0 else Station201)(s.cp_id, {1: Connector(11.0)}, behaviours[i])
        for i, s in enumerate(specs)
    ]
    store = SqliteStore(db)

    def head_meter(seq: int) -> None:
        draw = sum(sum(s.draws().values()) for s in fleet)
        listener.publish(
            "territory/centre/feeder/f1/telemetry",
            {
                "ts": round(time.time(), 3),
                "seq": seq,
                "activePower": round(BASE_KW + draw, 3),
                "powerLimit": LIMIT_KW,
            },
        )

    async def scenario() -> None:
        for station, spec in zip(fleet, specs, strict=True):
            await station.connect(bridge.url, spec.password)
            await station.boot()
            await station.plug_in(1, demand_kw=11.0)
            await station.meter(1)
        head_meter(1)

        def planned_sessions() -> bool:
            chargers = [r for r in store.latest(kind="ev_charger") if "requestedEnergy" in r.fields]
            return len(chargers) == len(fleet) and bool(store.latest(kind="feeder"))

        assert await eventually(planned_sessions, 30), "the readings did not reach the store"
        optimiser = subprocess.run(
            [
                sys.executable,
                "-m",
                "territory",
                "optimise",
                "--mqtt",
                mosquitto.url,
                "--store",
                f"sqlite:///{db}",
                "--once",
                "--domain",
                "energy",
                "--inventory",
                str(bridge.inventory),
            ],
            cwd=REPO,
            capture_output=True,
            timeout=120,
        )
        assert optimiser.returncode == 0, optimiser.stderr.decode()[-2000:]
        commands = {
            s.device_id(): f"territory/centre/ev_charger/{s.device_id()}/cmd" for s in specs
        }
        assert await eventually(lambda: all(listener.on(t) for t in commands.values()), 30)

        def obeyed() -> bool:
            for station, spec in zip(fleet, specs, strict=True):
                setpoint = listener.on(commands[spec.device_id()])[-1]["setpoint"]
                got = [
                    r for r in station.profiles.received if r.accepted and r.purpose == "TxProfile"
                ]
                if not got or abs(station.profiles.kw(got[-1]) - setpoint) > 0.1:
                    return False
            return True

        assert await eventually(obeyed, 30), "the set-points did not become profiles"
        for station in fleet:
            await station.meter(1)
            tx = [r for r in station.profiles.received if r.purpose == "TxProfile"][-1]
            # As a charger would check it: its own stack level and unit, a plan's duration.
            assert tx.stack_level == station.profiles.behaviour.max_stack_level
            assert tx.unit == ("A" if station.profiles.behaviour.rate_units == "Current" else "W")
            assert tx.duration is not None and 0 < tx.duration <= 2 * 60 + 5  # two ticks of 60 s
        # The reflex that met the uncontrolled overload lowers the chargers for a while,
        # and the floor follows the head meter: as the feeder keeps reporting, the room
        # the plan leaves is used, and the feeder is never over its limit meanwhile.
        seq = 2
        while True:
            head_meter(seq)
            draw = sum(sum(s.draws().values()) for s in fleet)
            assert BASE_KW + draw <= LIMIT_KW + 1e-6
            if draw > 0.8 * (LIMIT_KW - BASE_KW) or seq > ROOM_READINGS:
                break
            seq += 1
            for station in fleet:
                await station.meter(1)
            await asyncio.sleep(1.0)
        assert draw > 0.8 * (LIMIT_KW - BASE_KW)  # and the room is used
        for station in fleet:
            await station.close()

    try:
        run(scenario)
    finally:
        store.close()
        ingest.stop()
