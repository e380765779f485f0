"""The alert rules on a live state built by hand: raised, updated, cleared."""

from __future__ import annotations

from typing import Any

from dashboard.alerts import AlertBook
from dashboard.config import AlertRules
from dashboard.live import FeedState
from dashboard.territory_map import CorridorSpot, TerritoryMap
from territory.inventory import Device, Inventory, Zone

NOW = 1_800_000_000.0


def reading(
    device: str, kind: str, zone: str, ts: float, arrival: float | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "device_id": device,
        "kind": kind,
        "zone": zone,
        "ts": ts,
        "seq": 1,
        "arrival": arrival if arrival is not None else ts,
        "fields": fields,
    }


def book(**rules: Any) -> AlertBook:
    corridor = CorridorSpot("c1", "Line 1", ("east",), capacity=100.0, slot_minutes=15)
    territory = TerritoryMap(corridors={"c1": corridor}, transit_period_s=60.0)
    return AlertBook(AlertRules(**rules), territory)


def state_of(*readings: dict[str, Any]) -> FeedState:
    return FeedState(readings={r["device_id"]: r for r in readings})


def test_a_silent_device_is_stale_by_its_kind_limit() -> None:
    alerts = book(
        stale_after_s=60,
        stale_after_s_by_kind={"air": 300},
        ingest_silent_after_s=1000,
        ingest_lag_s=1000,
    )
    state = state_of(
        reading("m1", "meter", "z", ts=NOW - 61),
        reading("m2", "meter", "z", ts=NOW - 59),
        reading("a1", "air", "z", ts=NOW - 200, arrival=NOW, pm25=1.0, pm10=1.0, no2=1.0),
    )
    raised = alerts.evaluate(state, NOW)
    assert set(raised) == {"stale:m1"}
    assert raised["stale:m1"]["raised"] == NOW
    # Still silent a second later: unchanged, so nothing new to send.
    assert alerts.evaluate(state, NOW + 1) == {}


def test_full_and_empty_stations() -> None:
    alerts = book(station_empty_at=1)
    state = state_of(
        reading(
            "s1",
            "bike_station",
            "z",
            NOW,
            availableBikeNumber=1,
            freeSlotNumber=9,
            totalSlotNumber=10,
        ),
        reading(
            "s2",
            "bike_station",
            "z",
            NOW,
            availableBikeNumber=10,
            freeSlotNumber=0,
            totalSlotNumber=10,
        ),
        reading(
            "s3",
            "bike_station",
            "z",
            NOW,
            availableBikeNumber=5,
            freeSlotNumber=5,
            totalSlotNumber=10,
        ),
    )
    assert set(alerts.evaluate(state, NOW)) == {"empty:s1", "full:s2"}


def test_a_feeder_goes_near_then_over_then_back_keeping_its_raise_time() -> None:
    alerts = book(feeder_near_ratio=0.9)

    def at(load: float, t: float) -> dict[str, dict[str, Any]]:
        state = state_of(reading("f1", "feeder", "z", t, activePower=load, powerLimit=100.0))
        return alerts.evaluate(state, t)

    assert at(80, NOW) == {}
    near = at(95, NOW + 1)["feeder:f1"]
    over = at(120, NOW + 2)["feeder:f1"]
    cleared = at(50, NOW + 3)["feeder:f1"]
    assert (near["severity"], over["severity"]) == ("warning", "critical")
    assert over["raised"] == NOW + 1
    assert cleared["removed"] and cleared["cleared"] == NOW + 3
    assert alerts.cleared[0]["id"] == "feeder:f1" and not alerts.open


def test_a_corridor_over_capacity_from_its_counters() -> None:
    alerts = book()
    # Two counters, 60 s periods, 15-min slots: per slot = (4 + 3) * 15 = 105 > 100.
    state = state_of(
        reading("t1", "transit_counter", "east", NOW, boardings=4, corridor="c1"),
        reading("t2", "transit_counter", "west", NOW, boardings=3, corridor="c1"),
    )
    [alert] = alerts.evaluate(state, NOW).values()
    assert alert["id"] == "corridor:c1"
    assert alert["zone"] == "east"
    assert alert["value"] == 1.05


def test_dead_letters_raise_within_their_window_only() -> None:
    alerts = book(deadletter_window_s=60, deadletter_threshold=2)
    state = state_of(reading("m1", "meter", "z", NOW))
    state.deadletters = {"invalid_json": 5}
    assert alerts.evaluate(state, NOW) == {}  # already there when the console started
    state.deadletters = {"invalid_json": 7}
    assert "deadletters:invalid_json" in alerts.evaluate(state, NOW + 10)
    state.readings["m1"]["ts"] = state.readings["m1"]["arrival"] = NOW + 80
    assert alerts.evaluate(state, NOW + 80)["deadletters:invalid_json"]["removed"]


def test_ingest_silent_and_ingest_lagging() -> None:
    alerts = book(ingest_silent_after_s=30, ingest_lag_s=5, stale_after_s=1000)
    silent = state_of(reading("m1", "meter", "z", ts=NOW - 40))
    assert set(alerts.evaluate(silent, NOW)) == {"ingest:silent"}
    lagging = state_of(
        reading("m1", "meter", "z", ts=NOW - 9, arrival=NOW - 1),
        reading("m2", "meter", "z", ts=NOW - 8, arrival=NOW),
    )
    changes = alerts.evaluate(lagging, NOW)
    assert changes["ingest:silent"]["removed"]
    assert changes["ingest:lag"]["severity"] == "warning"


def test_a_forged_limit_claim_is_raised_and_the_inventory_limit_judges_the_load() -> None:
    inventory = Inventory(
        name="t",
        zones=[Zone(id="z", name="Z", x=0, y=0)],
        devices=[Device(id="f1", kind="feeder", zone="z", limit_kw=100.0)],
    )
    alerts = AlertBook(
        AlertRules(ingest_silent_after_s=1000, ingest_lag_s=1000),
        TerritoryMap(inventory=inventory, from_inventory=True),
    )
    # The head meter claims ten times its limit: at 120 kW it is over the real one.
    forged = reading("f1", "feeder", "z", ts=NOW, activePower=120.0, powerLimit=1000.0)
    raised = alerts.evaluate(state_of(forged), NOW)
    assert set(raised) == {"limit_claim:f1:powerLimit", "feeder:f1"}
    assert raised["limit_claim:f1:powerLimit"]["severity"] == "critical"
    assert raised["limit_claim:f1:powerLimit"]["value"] == 1000.0
    assert raised["feeder:f1"]["severity"] == "critical" and raised["feeder:f1"]["value"] == 1.2
    honest = reading("f1", "feeder", "z", ts=NOW + 1, activePower=50.0, powerLimit=100.0)
    cleared = alerts.evaluate(state_of(honest), NOW + 1)
    assert all(alert.get("removed") for alert in cleared.values()) and len(cleared) == 2
