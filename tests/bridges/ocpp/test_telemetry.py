"""Telemetry in: OCPP messages become `ev_charger` readings on the connector's own topic,
valid under the payload contract."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from territory.decode import decode
from tests.bridges.ocpp.helpers import BridgeProcess, ChargerSpec, Listener, eventually, run
from tests.bridges.ocpp.peers import Behaviour, Connector, Station16, Station201

StartBridge = Callable[..., BridgeProcess]


def topic_of(spec: ChargerSpec, connector: int = 1) -> str:
    return f"territory/centre/ev_charger/{spec.device_id(connector)}/telemetry"


def assert_valid(topic: str, payload: dict[str, Any]) -> None:
    decoded = decode(topic, json.dumps(payload).encode(), arrival_ns=time.time_ns())
    assert decoded.rejection is None, decoded.rejection


def test_a_16_session_is_read_with_assumed_needs_from_the_inventory(
    start_bridge: StartBridge, listener: Listener
) -> None:
    spec = ChargerSpec("CP-16", connectors=2, max_kw=22.0, default_energy_kwh=30, default_dwell_h=4)
    bridge = start_bridge([spec], {"f1": 80.0})
    topic = topic_of(spec, 2)

    async def scenario() -> None:
        station = Station16(spec.cp_id, {1: Connector(22), 2: Connector(22)}, Behaviour())
        await station.connect(bridge.url, spec.password)
        await station.boot()
        await station.status(2, "Available")
        assert await eventually(lambda: any(r["status"] == "available" for r in listener.on(topic)))
        plugged_at = time.time()
        await station.plug_in(2, demand_kw=11.0)
        await station.meter(2, seconds=600)
        assert await eventually(lambda: listener.on(topic)[-1]["powerConsumption"] > 0)
        await station.close()
        reading = listener.on(topic)[-1]
        assert reading["status"] == "charging"
        assert reading["powerConsumption"] == 11.0
        assert reading["maxPower"] == 22.0 and reading["feeder"] == "f1"  # the inventory's
        assert reading["assumed"] is True
        # 11 kW for 10 minutes delivered; the rest of the inventory's 30 kWh still wanted.
        assert abs(reading["requestedEnergy"] - (30 - 11 / 6)) < 0.01
        assert abs(reading["departure"] - (plugged_at + 4 * 3600)) < 30
        assert abs(reading["activeEnergyImport"] - 11 / 6) < 0.01

    run(scenario)
    for reading in listener.on(topic):
        assert_valid(topic, reading)
    assert [r["seq"] for r in listener.on(topic)] == sorted(r["seq"] for r in listener.on(topic))


def test_201_charging_needs_replace_the_defaults(
    start_bridge: StartBridge, listener: Listener
) -> None:
    spec = ChargerSpec("CP-201")
    bridge = start_bridge([spec])
    topic = topic_of(spec)
    departure = time.time() + 2 * 3600

    async def scenario() -> None:
        station = Station201(spec.cp_id, {1: Connector(11)}, Behaviour())
        await station.connect(bridge.url, spec.password)
        await station.boot()
        await station.status(1, "Available")
        await station.plug_in(1, demand_kw=7.0, needs_kwh=12.0, departure=departure)
        assert await eventually(lambda: listener.on(topic)[-1].get("assumed") is False)
        await station.meter(1, seconds=60)
        assert await eventually(lambda: listener.on(topic)[-1]["powerConsumption"] > 0)
        await station.unplug(1)
        assert await eventually(lambda: listener.on(topic)[-1]["status"] == "available")
        await station.close()

    run(scenario)
    readings = listener.on(topic)
    charging = [r for r in readings if r["powerConsumption"] > 0][-1]
    assert charging["status"] == "charging"
    assert abs(charging["requestedEnergy"] - (12.0 - 7.0 / 60)) < 0.01
    assert abs(charging["departure"] - round(departure)) < 2
    assert "requestedEnergy" not in readings[-1]
    for reading in readings:
        assert_valid(topic, reading)


def test_power_is_derived_from_the_register_when_the_charger_sends_none(
    start_bridge: StartBridge, listener: Listener
) -> None:
    spec = ChargerSpec("CP-NOPOWER")
    bridge = start_bridge([spec])
    topic = topic_of(spec)

    async def scenario() -> None:
        station = Station16(spec.cp_id, {1: Connector(11)}, Behaviour(power_measurand=False))
        await station.connect(bridge.url, spec.password)
        await station.boot()
        await station.plug_in(1, demand_kw=11.0)
        # Two register readings 1.5 s apart at 11 kW: the bridge derives the power.
        station.connectors[1].energy_wh = 1000.0
        await station.meter(1, seconds=0)
        await _sleep(1.5)
        station.connectors[1].energy_wh += 11_000 * 1.5 / 3600
        await station.meter(1, seconds=0)
        assert await eventually(lambda: listener.on(topic)[-1]["powerConsumption"] > 0)
        await station.close()

    run(scenario)
    derived = listener.on(topic)[-1]["powerConsumption"]
    # The register is sent to 0.1 Wh and its time to the second: the power is about right.
    assert 5.0 < derived < 25.0


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
