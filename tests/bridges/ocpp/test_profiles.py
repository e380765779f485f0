"""Set-points out: the optimiser's set-point on a connector's `cmd` topic becomes a
charging profile the charger accepts, phrased in its own terms; rejections are
dead-lettered, alerted and retried as the charger's quirks say."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from tests.bridges.ocpp.helpers import BridgeProcess, ChargerSpec, Listener, eventually, run
from tests.bridges.ocpp.peers import Behaviour, Connector, SimulatedStation, Station16, Station201

StartBridge = Callable[..., BridgeProcess]


def cmd_topic(spec: ChargerSpec, connector: int = 1) -> str:
    return f"territory/centre/ev_charger/{spec.device_id(connector)}/cmd"


def setpoint(kw: float, validity_s: float = 120.0, plan: str = "energy-test") -> dict[str, object]:
    now = time.time()
    return {
        "ts": round(now, 3),
        "setpoint": kw,
        "valid_until": round(now + validity_s, 3),
        "plan": plan,
    }


def accepted(station: SimulatedStation, purpose: str) -> list:  # type: ignore[type-arg]
    return [r for r in station.profiles.received if r.purpose == purpose and r.accepted]


def test_a_setpoint_becomes_a_tx_profile_in_the_chargers_terms(
    start_bridge: StartBridge, listener: Listener
) -> None:
    v16 = ChargerSpec("CP-A16", max_kw=22.0)
    v201 = ChargerSpec("CP-A201", max_kw=22.0)
    bridge = start_bridge([v16, v201], {"f1": 200.0})

    async def scenario() -> None:
        # 1.6 in amps only (a common configuration), 2.0.1 in watts with stack level 5.
        amps = Station16(
            v16.cp_id, {1: Connector(22)}, Behaviour(max_stack_level=2, rate_units="Current")
        )
        watts = Station201(
            v201.cp_id, {1: Connector(22)}, Behaviour(max_stack_level=5, rate_units="A,W")
        )
        for station in (amps, watts):
            await station.connect(bridge.url, v16.password if station is amps else v201.password)
            await station.boot()
            await station.plug_in(1, demand_kw=22.0)
        listener.publish(cmd_topic(v16), setpoint(6.9, validity_s=300))
        listener.publish(cmd_topic(v201), setpoint(7.4, validity_s=300))
        assert await eventually(
            lambda: bool(accepted(amps, "TxProfile")) and bool(accepted(watts, "TxProfile"))
        )
        await amps.close()
        await watts.close()

        tx16 = accepted(amps, "TxProfile")[-1]
        assert (tx16.unit, tx16.stack_level, tx16.number_phases) == ("A", 2, 3)
        assert tx16.limit == 10.0  # 6.9 kW over 3 phases at 230 V, rounded down to 0.1 A
        assert tx16.transaction_id == amps.connectors[1].transaction_id
        assert tx16.duration is not None and 295 <= tx16.duration <= 301
        tx201 = accepted(watts, "TxProfile")[-1]
        assert (tx201.unit, tx201.stack_level, tx201.limit) == ("W", 5, 7400.0)
        assert tx201.transaction_id == watts.connectors[1].transaction_id
        # The chargers draw what the profiles allow.
        assert abs(amps.draws()[1] - 6.9) < 0.1 and abs(watts.draws()[1] - 7.4) < 1e-6
        # Once the plan's validity is over, the charger falls back by itself.
        assert amps.draws(time.time() + 400)[1] > 7.0

    run(scenario)


def test_without_a_transaction_the_setpoint_is_a_tx_default_profile(
    start_bridge: StartBridge, listener: Listener
) -> None:
    spec = ChargerSpec("CP-IDLE")
    bridge = start_bridge([spec])

    async def scenario() -> None:
        station = Station16(spec.cp_id, {1: Connector(11)}, Behaviour())
        await station.connect(bridge.url, spec.password)
        await station.boot()
        await station.status(1, "Available")
        listener.publish(cmd_topic(spec), setpoint(3.0))
        assert await eventually(lambda: bool(accepted(station, "TxDefaultProfile")))
        # A vehicle arriving now draws within it.
        await station.plug_in(1, demand_kw=11.0)
        assert abs(station.draws()[1] - 3.0) < 0.05
        await station.close()

    run(scenario)


def test_quirks_a_watts_only_charger_and_one_that_rejects_tx_default(
    start_bridge: StartBridge, listener: Listener
) -> None:
    watts_only = ChargerSpec("CP-WATTS", quirks=["watts_only"])
    picky = ChargerSpec("CP-PICKY")  # its quirks are learned from its answers
    bridge = start_bridge([watts_only, picky])

    async def scenario() -> None:
        # The watts-only charger claims to take amps too (its configuration lies).
        w = Station16(
            watts_only.cp_id, {1: Connector(11)}, Behaviour(rate_units="Current", watts_only=True)
        )
        p = Station201(picky.cp_id, {1: Connector(11)}, Behaviour(rejects_tx_default=True))
        await w.connect(bridge.url, watts_only.password)
        await p.connect(bridge.url, picky.password)
        for station in (w, p):
            await station.boot()
        listener.publish(cmd_topic(watts_only), setpoint(4.0))
        listener.publish(cmd_topic(picky), setpoint(5.0))
        assert await eventually(lambda: bool(accepted(w, "TxDefaultProfile")))
        assert all(r.unit == "W" for r in w.profiles.received)  # never asked in amps
        rejected = "territory/rejects/ocpp/profile_rejected"
        origin = f"ocpp://{picky.cp_id}/1"
        assert await eventually(lambda: any(d["origin"] == origin for d in listener.on(rejected)))
        envelope = next(d for d in listener.on(rejected) if d["origin"] == origin)
        letter = json.loads(envelope["payload"])
        assert envelope["source"] == "ocpp" and picky.cp_id in envelope["detail"]
        assert letter["answer"]["status"] == "Rejected"
        assert (
            letter["profile"]["charging_profile"]["charging_profile_purpose"] == "TxDefaultProfile"
        )
        assert any(a["charge_point"] == picky.cp_id for a in listener.on("territory/alerts/ocpp"))
        # Retried as the quirks say, then learned: once a transaction runs, a TxProfile.
        await p.plug_in(1, demand_kw=11.0)
        listener.publish(cmd_topic(picky), setpoint(5.5))
        assert await eventually(lambda: any(r.limit == 5500 for r in accepted(p, "TxProfile")))
        assert abs(p.draws()[1] - 5.5) < 1e-6
        # The unit and stack level it took were not given up for its one real quirk.
        assert {(r.unit, r.stack_level) for r in p.profiles.received} == {("W", 3)}
        tx_defaults = [r for r in p.profiles.received if r.purpose == "TxDefaultProfile"]
        assert tx_defaults and not any(r.accepted for r in tx_defaults)
        await w.close()
        await p.close()

    run(scenario)


def test_a_rebooted_charge_point_gets_its_profiles_again(
    start_bridge: StartBridge, listener: Listener
) -> None:
    spec = ChargerSpec("CP-REBOOT")
    bridge = start_bridge([spec])

    async def scenario() -> None:
        station = Station16(spec.cp_id, {1: Connector(11)}, Behaviour())
        await station.connect(bridge.url, spec.password)
        await station.boot()
        await station.plug_in(1, demand_kw=11.0)
        listener.publish(cmd_topic(spec), setpoint(4.2, validity_s=600))
        assert await eventually(lambda: bool(accepted(station, "TxProfile")))
        # Reboot mid-session: the connection drops and the profiles are lost.
        await station.close()
        station.profiles.held.clear()
        before = len(station.profiles.received)
        await station.connect(bridge.url, spec.password)
        await station.boot()
        assert await eventually(lambda: len(accepted(station, "TxProfile")) >= 2)
        assert any(r.purpose == "ChargePointMaxProfile" for r in station.profiles.received[before:])
        assert abs(station.draws()[1] - 4.2) < 0.05
        await station.close()

    run(scenario)


def test_a_silent_charge_point_is_reported_stale_and_blocks_no_one(
    start_bridge: StartBridge, listener: Listener
) -> None:
    silent = ChargerSpec("CP-SILENT")
    lively = ChargerSpec("CP-LIVELY")
    bridge = start_bridge([silent, lively])

    async def scenario() -> None:
        mute = Station16(silent.cp_id, {1: Connector(11)}, Behaviour(silent=True))
        ok = Station16(lively.cp_id, {1: Connector(11)}, Behaviour())
        await mute.connect(bridge.url, silent.password)
        await ok.connect(bridge.url, lively.password)
        await mute.boot()
        await ok.boot()
        listener.publish(cmd_topic(silent), setpoint(2.0))
        listener.publish(cmd_topic(lively), setpoint(3.0))
        assert await eventually(lambda: bool(accepted(ok, "TxDefaultProfile")))
        alerts = "territory/alerts/ocpp"
        assert await eventually(
            lambda: any(
                a["rule"] == "stale" and a["charge_point"] == silent.cp_id
                for a in listener.on(alerts)
            )
        )
        await mute.close()
        await ok.close()

    run(scenario)


def test_a_malformed_setpoint_is_dead_lettered(
    start_bridge: StartBridge, listener: Listener
) -> None:
    spec = ChargerSpec("CP-BAD")
    start_bridge([spec])
    listener.publish(cmd_topic(spec), {"ts": 1.0, "setpoint": -4, "valid_until": 2.0})

    async def scenario() -> None:
        assert await eventually(
            lambda: bool(listener.on("territory/rejects/ocpp/invalid_setpoint"))
        )

    run(scenario)
    letter = listener.on("territory/rejects/ocpp/invalid_setpoint")[0]
    assert "setpoint" in letter["detail"] and letter["origin"] == cmd_topic(spec)
    assert json.loads(letter["payload"])["setpoint"] == -4
