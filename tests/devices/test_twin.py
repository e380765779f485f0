"""The twin in-process: valid payloads of every kind, faults ingest can name, determinism,
and chargers obeying set-points."""

from __future__ import annotations

import json
from collections import Counter

from devices.clock import VirtualClock
from devices.commands import ChargerSetpoint, VanRoute, VanStop
from devices.scenario import Scenario
from devices.twin import Twin
from territory.decode import decode
from territory.kinds import KINDS
from tests.devices.helpers import START, ListSink, tiny_document


def _run(
    scenario: Scenario, seconds: float, seed: int = 1, faults: float = 0.0
) -> tuple[Twin, ListSink]:
    sink = ListSink()
    twin = Twin(scenario, VirtualClock(START), sink, seed=seed, fault_share=faults)
    twin.run_until(START + seconds)
    return twin, sink


def _decode(topic: str, payload: bytes) -> object:
    document = json.loads(payload)
    return decode(topic, payload, arrival_ns=int(document["ts"] * 1e9))


def test_every_kind_publishes_payloads_that_decode(tiny: Scenario) -> None:
    _, sink = _run(tiny, 60)
    kinds: Counter[str] = Counter()
    for topic, payload in sink.messages:
        decoded = decode(topic, payload, arrival_ns=int(START * 1e9))
        assert decoded.rejection is None, (topic, payload, decoded.rejection)
        kinds[decoded.readings[0].kind] += 1
    assert set(kinds) == set(KINDS)


def test_each_device_counts_its_own_sequence(tiny: Scenario) -> None:
    _, sink = _run(tiny, 30)
    last: dict[str, int] = {}
    for topic, payload in sink.messages:
        seq = json.loads(payload)["seq"]
        assert seq == last.get(topic, 0) + 1
        last[topic] = seq
    assert len(last) == len(tiny.devices()) + len(tiny.feeders) + len(tiny.vans)


def test_the_demo_publishes_valid_payloads_over_a_day() -> None:
    from devices.scenario import load_scenario
    from tests.services import REPO

    demo = load_scenario(REPO / "config/territories/demo.yaml")
    # Slower readings keep the test short; the world's dynamics do not depend on them.
    slow = demo.periods.model_copy(update={k: 600.0 for k in demo.periods.model_fields})
    scenario = demo.model_copy(update={"periods": slow, "step_s": 60.0})
    sink = ListSink()
    twin = Twin(scenario, VirtualClock(START), sink, seed=3)
    for hour in range(1, 25):
        twin.run_until(START + 3600 * hour)
        for topic, payload in sink.messages[-50:]:
            assert _decode(topic, payload).rejection is None  # type: ignore[attr-defined]
    plugged = [c for c in twin.grid.chargers if c.plugged]
    assert plugged, "some vehicles are plugged"
    assert twin.kpis.feeder_minutes_over_limit > 0, "uncontrolled charging overloads a feeder"


def test_same_seed_same_stream_other_seed_other_stream(tiny: Scenario) -> None:
    first = _run(tiny, 120, seed=7, faults=0.2)[1].messages
    again = _run(tiny, 120, seed=7, faults=0.2)[1].messages
    other = _run(tiny, 120, seed=8, faults=0.2)[1].messages
    assert first == again
    assert first != other


def test_faults_are_rejected_by_the_reason_they_were_injected_as(tiny: Scenario) -> None:
    twin, sink = _run(tiny, 600, seed=5, faults=0.3)
    reasons: Counter[str] = Counter()
    seen: set[tuple[str, bytes]] = set()
    for topic, payload in sink.messages:
        if (topic, payload) in seen:
            reasons["duplicate"] += 1
            continue
        seen.add((topic, payload))
        rejection = _decode_or_raw(topic, payload)
        if rejection is not None:
            reasons[rejection] += 1
    injected = twin.faults.injected
    assert set(injected) >= {
        "invalid_json",
        "wrong_type",
        "non_finite",
        "missing_attribute",
        "absurd_timestamp",
        "duplicate",
    }
    assert reasons == twin.faults.expected_outcomes()


def _decode_or_raw(topic: str, payload: bytes) -> str | None:
    """Decode with arrival at the payload's own time when it has one (the run is virtual)."""
    arrival = START
    try:
        arrival = float(json.loads(payload)["ts"])
        if not START - 10 <= arrival <= START + 10**6:
            arrival = START
    except (ValueError, KeyError, TypeError):
        pass
    decoded = decode(topic, payload, arrival_ns=int(arrival * 1e9))
    return None if decoded.rejection is None else decoded.rejection.reason.value


def test_a_charger_obeys_its_setpoint_then_reverts(tiny: Scenario) -> None:
    sink = ListSink()
    twin = Twin(tiny, VirtualClock(START), sink, seed=1)
    twin.run_until(START + 5)
    charger = twin.grid.chargers[0]
    assert charger.power_kw == charger.max_kw, "uncontrolled: full power"
    twin.apply(
        ChargerSetpoint(
            device_id=charger.device_id, ts=START + 5, setpoint=3.0, valid_until=START + 20
        )
    )
    readings = _charger_readings(sink, twin, charger.device_id, START + 30)
    during = [p for ts, p in readings if START + 5 < ts < START + 20]
    after = [p for ts, p in readings if ts > START + 20 + tiny.step_s]
    assert during and all(p <= 3.0 for p in during)
    assert after and all(p == charger.max_kw for p in after)


def _charger_readings(
    sink: ListSink, twin: Twin, device_id: str, until: float
) -> list[tuple[float, float]]:
    start = len(sink.messages)
    twin.run_until(until)
    found = []
    for topic, payload in sink.messages[start:]:
        if f"/{device_id}/" in topic:
            document = json.loads(payload)
            found.append((document["ts"], document["powerConsumption"]))
    return found


def test_a_setpoint_never_lifts_power_above_max(tiny: Scenario) -> None:
    twin, sink = _run(tiny, 2)
    charger = twin.grid.chargers[1]
    twin.apply(
        ChargerSetpoint(
            device_id=charger.device_id, ts=START, setpoint=500.0, valid_until=START + 60
        )
    )
    readings = _charger_readings(sink, twin, charger.device_id, START + 30)
    assert readings and all(p <= charger.max_kw for _, p in readings)


def test_unknown_targets_are_counted_not_obeyed(tiny: Scenario) -> None:
    twin, _ = _run(tiny, 1)
    assert not twin.apply(
        ChargerSetpoint(device_id="ghost", ts=START, setpoint=1, valid_until=START + 9)
    )
    route = VanRoute(van_id="van-1", ts=START, stops=[VanStop(station="nowhere", load=3)])
    assert not twin.apply(route)
    assert twin.rejected_commands == Counter({"unknown_charger": 1, "unknown_station": 1})


def test_a_van_moves_bikes_between_stations(tiny: Scenario) -> None:
    quiet = Scenario.model_validate(
        tiny_document(
            bike_stations=[{"zone": "a", "count": 2, "slots": 10, "bikes": 5, "trips_per_day": 0}]
        )
    )
    twin, _ = _run(quiet, 1)
    first, second = twin.bikes.stations
    stops = [VanStop(station=first.device_id, load=4), VanStop(station=second.device_id, load=-4)]
    assert twin.apply(VanRoute(van_id="van-1", ts=START, stops=stops))
    twin.run_until(START + 1800)
    assert (first.bikes, second.bikes) == (1, 9)
    assert twin.kpis.van_km > 0


def test_a_van_reports_where_it_is_and_what_it_carries(tiny: Scenario) -> None:
    quiet = Scenario.model_validate(
        tiny_document(
            bike_stations=[{"zone": "a", "count": 2, "slots": 10, "bikes": 5, "trips_per_day": 0}]
        )
    )
    twin, sink = _run(quiet, 40)
    first = twin.bikes.stations[0]
    assert twin.apply(
        VanRoute(van_id="van-1", ts=twin.t, stops=[VanStop(station=first.device_id, load=4)])
    )
    twin.run_until(START + 1800)
    reports = []
    for topic, payload in sink.messages:
        if topic == "territory/b/van/van-1/telemetry":
            decoded = decode(topic, payload, arrival_ns=int(json.loads(payload)["ts"] * 1e9))
            assert decoded.rejection is None, payload
            reports.append(decoded.readings[0].fields)
    statuses = [r["status"] for r in reports]
    assert reports[0] == {"status": "idle", "station": "b", "load": 0, "capacity": 10}
    assert "driving" in statuses and "servicing" in statuses
    # Driving reports come before the stop, servicing ones after, then idle at the station.
    assert statuses.index("driving") < statuses.index("servicing")
    assert reports[-1] == {"status": "idle", "station": first.device_id, "load": 4, "capacity": 10}
