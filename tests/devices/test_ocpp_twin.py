"""The twin's chargers over OCPP against a real bridge process and a real mosquitto:
they connect with the passwords the inventory export wrote, their sessions reach MQTT as
the bridge's readings, and a set-point on a charger's `cmd` topic ends as a charging
profile that the twin's charger obeys."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.inventory import ocpp_inventory
from devices.live import LiveRun
from devices.ocpp_points import point_models
from devices.scenario import Scenario
from territory import topics
from territory.inventory import dump_inventory
from tests.bridges.ocpp.helpers import BridgeProcess, Listener
from tests.services import Mosquitto


def _mixed_seed(tiny: Scenario) -> int:
    """A seed whose two chargers speak one version each, the first one without quirks."""
    ids = [c.device_id for c in _chargers(tiny)]
    for seed in range(200):
        models = point_models(ids, seed)
        versions = {m.version for m in models.values()}
        if versions == {"1.6", "2.0.1"} and models[ids[0]].quirk is None:
            return seed
    raise AssertionError("no seed mixes both versions")


def _chargers(tiny: Scenario) -> list[object]:
    from devices.build import build_world

    return list(build_world(tiny, 0).grid.chargers)


@pytest.fixture
def twin_over_ocpp(
    tiny: Scenario, mosquitto: Mosquitto, tmp_path: Path
) -> Iterator[tuple[LiveRun, BridgeProcess]]:
    seed = _mixed_seed(tiny)
    passwords = tmp_path / "passwords"
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(dump_inventory(ocpp_inventory(tiny, passwords, seed)))
    bridge = BridgeProcess(inventory, mosquitto.url, tmp_path / "bridge.log")
    bridge.start()
    run = LiveRun(tiny, mosquitto.url, seed=seed, ocpp=(bridge.url, passwords))
    thread = threading.Thread(target=run.connect_and_run, daemon=True)
    thread.start()
    try:
        yield run, bridge
    finally:
        run.stop.set()
        thread.join(20)
        bridge.stop()


def _wait(condition: object, timeout: float = 30.0) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_the_export_writes_one_private_password_per_charge_point(
    tiny: Scenario, tmp_path: Path
) -> None:
    inventory = ocpp_inventory(tiny, tmp_path / "pw", seed=4)
    chargers = inventory.of_kind("ev_charger")
    assert len(chargers) == 2
    for device in chargers:
        assert device.ocpp is not None and device.ocpp.security_profile == 1
        path = Path(device.ocpp.password_file or "")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_text().strip()) >= 24
    again = ocpp_inventory(tiny, tmp_path / "pw", seed=4)
    assert again == inventory, "an export run again keeps the passwords and the quirks"
    text = dump_inventory(inventory)
    assert all(Path(d.ocpp.password_file or "").read_text().strip() not in text for d in chargers)


def test_the_twin_reports_over_ocpp_and_obeys_a_setpoint_as_a_profile(
    twin_over_ocpp: tuple[LiveRun, BridgeProcess], mosquitto: Mosquitto
) -> None:
    run, bridge = twin_over_ocpp
    listener = Listener(mosquitto.url)
    try:
        chargers = run.twin.grid.chargers
        assert _wait(lambda: run.fleet is not None and run.fleet.counts["connected"] == 2)
        assert run.fleet is not None
        versions = {p.station.version for p in run.fleet.points.values()}
        assert versions == {"1.6", "2.0.1"}
        telemetry = {
            c.device_id: topics.telemetry(c.zone, "ev_charger", c.device_id) for c in chargers
        }

        def bridge_readings(device_id: str) -> list[dict[str, object]]:
            # The bridge's readings say whether the session's needs are assumed; the twin's own
            # MQTT payloads never do: every charger reading here came over OCPP.
            return [r for r in listener.on(telemetry[device_id]) if isinstance(r, dict)]

        # Both vehicles are plugged from the start (initial_occupancy 1) and draw flat out.
        assert _wait(
            lambda: all(
                any(
                    r.get("status") == "charging" and r.get("powerConsumption", 0) > 10
                    for r in bridge_readings(i)
                )
                for i in telemetry
            )
        ), bridge.log()
        assert all(
            "assumed" in r for i in telemetry for r in bridge_readings(i) if "requestedEnergy" in r
        )
        needs = {i: [r["assumed"] for r in bridge_readings(i) if "assumed" in r] for i in telemetry}
        points = run.fleet.points
        told_needs = [i for i in telemetry if points[i].station.version == "2.0.1"]
        assert needs[told_needs[0]][-1] is False, "a 2.0.1 charger tells the vehicle's needs"
        # Other devices still publish over MQTT.
        assert _wait(lambda: any("/feeder/" in t for t, _ in listener.messages))

        target = chargers[0]
        valid_until = time.time() + 600
        listener.publish(
            topics.command(target.zone, "ev_charger", target.device_id),
            {"ts": time.time(), "setpoint": 4.0, "valid_until": valid_until, "plan": "p1"},
        )
        station = points[target.device_id].station
        assert _wait(
            lambda: any(r.purpose == "TxProfile" and r.accepted for r in station.profiles.received)
        ), bridge.log()
        profile = next(r for r in station.profiles.received if r.purpose == "TxProfile")
        assert station.profiles.kw(profile) <= 4.0 + 1e-6
        # It lapses with the set-point: a charger whose plan expires falls back by itself.
        assert valid_until <= profile.start + (profile.duration or 0) <= valid_until + 1
        # The twin's charger draws what the profile allows, and the bridge reports it.
        assert _wait(lambda: 0 < target.power_kw <= 4.0 + 1e-6)
        assert _wait(
            lambda: any(
                0 < float(r.get("powerConsumption", 99)) <= 4.0 + 0.01
                for r in bridge_readings(target.device_id)[-3:]
            )
        )
        other = chargers[1]
        assert other.power_kw > 10, "the other charger is not limited"
    finally:
        listener.close()
