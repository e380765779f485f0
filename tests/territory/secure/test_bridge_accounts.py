"""Bridge accounts: each speaks only for the devices behind its protocol."""

from __future__ import annotations

import pytest

from territory import topics
from territory.inventory import Device, Inventory, OcppConnector, Zone
from territory.secure.principals import PrincipalError, principals

INVENTORY = Inventory(
    name="t",
    zones=[Zone(id="north", name="N", x=0, y=0)],
    devices=[
        Device(id="f-1", kind="feeder", zone="north", limit_kw=100),
        Device(id="f-2", kind="feeder", zone="north", limit_kw=100),
        Device(
            id="cp-1",
            kind="ev_charger",
            zone="north",
            feeder="f-1",
            max_power_kw=22,
            ocpp=OcppConnector(charge_point_id="CP1", password_file="cp1.pw"),
        ),
        Device(id="home-1", kind="ev_charger", zone="north", feeder="f-2", max_power_kw=7),
        Device(id="st-1", kind="bike_station", zone="north", capacity=20),
        Device(id="air-1", kind="air", zone="north"),
    ],
)


def rights(name: str, bridges: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
    found = {p.name: p for p in principals(INVENTORY, simulator=False, bridges=bridges)}
    account = found[name]
    assert account.listener == "services"
    return set(account.rights.publish), set(account.rights.subscribe)


def test_the_ocpp_bridge_speaks_for_its_connectors_only() -> None:
    # Issued without asking: the inventory has an OCPP connector.
    publish, subscribe = rights("ocpp")
    assert topics.telemetry("north", "ev_charger", "cp-1") in publish
    assert topics.telemetry("north", "ev_charger", "home-1") not in publish
    assert "territory/rejects/ocpp/#" in publish and topics.alert("ocpp") in publish
    assert not any(t.endswith("/cmd") or "plans" in t for t in publish)
    # Its chargers' set-points, and the head meter of their feeder for the reflex.
    assert subscribe == {
        topics.command("north", "ev_charger", "cp-1"),
        topics.telemetry("north", "feeder", "f-1"),
    }


def test_gbfs_and_lorawan_accounts_on_request_with_their_kinds() -> None:
    names = {p.name for p in principals(INVENTORY, simulator=False)}
    assert "gbfs" not in names and "lorawan" not in names
    publish, subscribe = rights("gbfs", ("gbfs",))
    assert {t for t in publish if t.endswith("/telemetry")} == {
        topics.telemetry("north", "bike_station", "st-1")
    }
    assert subscribe == set()
    publish, _ = rights("lorawan", ("lorawan",))
    telemetry = {t for t in publish if t.endswith("/telemetry")}
    assert topics.telemetry("north", "air", "air-1") in telemetry
    assert not any("/feeder/" in t or "/ev_charger/" in t for t in telemetry)


def test_ingest_reads_the_bridges_refusals_and_a_device_cannot_be_named_as_a_bridge() -> None:
    _, subscribe = rights("ingest")
    assert topics.REJECTS_FILTER in subscribe
    clash = Inventory(
        name="t",
        zones=INVENTORY.zones,
        devices=[*INVENTORY.devices, Device(id="gbfs", kind="air", zone="north")],
    )
    with pytest.raises(PrincipalError, match="kept for the platform"):
        principals(clash)
