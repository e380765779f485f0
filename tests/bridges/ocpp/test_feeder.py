"""The feeder: every station holds a max profile that keeps its feeder within its limit
even with the bridge stopped, and an overloaded feeder gets corrective profiles at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.bridges.ocpp.helpers import BridgeProcess, ChargerSpec, Listener, eventually, run
from tests.bridges.ocpp.peers import Behaviour, Connector, SimulatedStation, Station16, Station201

StartBridge = Callable[..., BridgeProcess]
LIMIT_KW = 40.0
FEEDER_TOPIC = "territory/centre/feeder/f1/telemetry"


def stations(specs: list[ChargerSpec]) -> list[SimulatedStation]:
    found: list[SimulatedStation] = []
    for index, spec in enumerate(specs):
        kind = Station16 if index % 2 == 0 else Station201
        found.append(kind(spec.cp_id, {1: Connector(spec.max_kw)}, Behaviour()))
    return found


def feeder_reading(kw: float, seq: int) -> dict[str, object]:
    return {"ts": round(time.time(), 3), "seq": seq, "activePower": kw, "powerLimit": LIMIT_KW}


def total_draw(fleet: list[SimulatedStation], at: float | None = None) -> float:
    return sum(sum(s.draws(at).values()) for s in fleet)


def test_the_floor_holds_the_feeder_with_the_bridge_stopped(
    start_bridge: StartBridge, listener: Listener
) -> None:
    specs = [ChargerSpec(f"CP-F{i}", max_kw=22.0) for i in range(4)]  # 88 kW on a 40 kW feeder
    bridge = start_bridge(specs, {"f1": LIMIT_KW})
    fleet = stations(specs)
    base_kw = 10.0

    async def scenario() -> None:
        for station, spec in zip(fleet, specs, strict=True):
            await station.connect(bridge.url, spec.password)
            await station.boot()
            await station.plug_in(1, demand_kw=22.0)
        # The feeder's head meter reports: the base load is now known to the floor.
        listener.publish(FEEDER_TOPIC, feeder_reading(base_kw, 1))

        def floors() -> list[float]:
            found = []
            for station in fleet:
                cap = station.profiles.station_max_kw(time.time())
                found.append(cap if cap is not None else float("inf"))
            return found

        assert await eventually(lambda: sum(floors()) <= LIMIT_KW - base_kw + 0.01)
        bridge.stop()  # and no optimiser either
        later = time.time() + 24 * 3600  # whatever profiles lapse, the floor does not
        assert total_draw(fleet, later) + base_kw <= LIMIT_KW + 0.01
        assert total_draw(fleet, later) > 0.9 * (LIMIT_KW - base_kw)  # the room is used
        for station in fleet:
            await station.close()

    run(scenario)


def test_an_overloaded_feeder_gets_corrective_profiles_at_once(
    start_bridge: StartBridge, listener: Listener
) -> None:
    specs = [ChargerSpec(f"CP-R{i}", max_kw=11.0) for i in range(3)]
    bridge = start_bridge(specs, {"f1": LIMIT_KW})
    fleet = stations(specs)

    async def scenario() -> None:
        for station, spec in zip(fleet, specs, strict=True):
            await station.connect(bridge.url, spec.password)
            await station.boot()
            await station.plug_in(1, demand_kw=11.0)
            await station.meter(1)
        # The floor leaves 33 kW to the chargers while the base load is low...
        listener.publish(FEEDER_TOPIC, feeder_reading(5.0 + total_draw(fleet), 1))
        assert await eventually(lambda: total_draw(fleet) > 30.0)
        for station in fleet:
            await station.meter(1)
        # ...then the base load steps from 5 to 25 kW: the feeder is over its limit.
        sent = time.monotonic()
        listener.publish(FEEDER_TOPIC, feeder_reading(25.0 + total_draw(fleet), 2))
        assert await eventually(lambda: total_draw(fleet) + 25.0 <= LIMIT_KW)
        corrective = [
            r.at - sent
            for s in fleet
            for r in s.profiles.received
            if r.at > sent and r.accepted and r.purpose != "ChargePointMaxProfile"
        ]
        assert len(corrective) >= len(fleet)
        print(
            f"reflex: corrective profiles {min(corrective):.3f}-{max(corrective):.3f} s after the reading"
        )
        for station in fleet:
            await station.close()

    run(scenario)
