"""Every reject reason of every kind, and what a valid payload becomes."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest

from territory.decode import MAX_PAYLOAD_BYTES, decode
from territory.examples import example_payloads
from territory.kinds import KINDS
from territory.readings import RejectReason

NOW = time.time()
EXAMPLES = example_payloads(NOW)
ALL_KINDS = sorted(KINDS)


def topic(kind: str, device: str = "dev-1") -> str:
    return f"territory/zone-a/{kind}/{device}/telemetry"


def reason_of(
    kind: str, payload: dict[str, Any] | bytes, device: str = "dev-1"
) -> RejectReason | None:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    decoded = decode(topic(kind, device), raw, arrival_ns=int(NOW * 1e9))
    return decoded.rejection.reason if decoded.rejection else None


def attributes(kind: str) -> list[str]:
    return [name for name in EXAMPLES[kind] if name not in ("ts", "seq")]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_valid_payload_becomes_a_reading(kind: str) -> None:
    decoded = decode(topic(kind), json.dumps(EXAMPLES[kind]).encode(), arrival_ns=int(NOW * 1e9))
    assert decoded.rejection is None
    (reading,) = decoded.readings
    assert (reading.kind, reading.zone, reading.device_id) == (kind, "zone-a", "dev-1")
    assert reading.seq == EXAMPLES[kind]["seq"]
    assert abs(reading.ts - NOW) < 1e-3
    assert set(reading.fields) == set(attributes(kind))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_required_attribute_is_required(kind: str) -> None:
    required = [n for n, f in KINDS[kind].model_fields.items() if f.is_required()]
    assert "ts" in required and "seq" in required
    for name in required:
        payload = {k: v for k, v in EXAMPLES[kind].items() if k != name}
        assert reason_of(kind, payload) == RejectReason.MISSING_ATTRIBUTE, name


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_wrong_types_are_named(kind: str) -> None:
    for name in ["seq", *attributes(kind)]:
        value = EXAMPLES[kind][name]
        wrong: object = [value] if isinstance(value, str) else str(value)
        payload = {**EXAMPLES[kind], name: wrong}
        assert reason_of(kind, payload) == RejectReason.WRONG_TYPE, name


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(kind: str, literal: str) -> None:
    numeric = [n for n in attributes(kind) if isinstance(EXAMPLES[kind][n], int | float)]
    for name in ["ts", *numeric]:
        raw = json.dumps({**EXAMPLES[kind], name: 0.123}).replace("0.123", literal, 1).encode()
        assert reason_of(kind, raw) == RejectReason.NON_FINITE, name


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("offset_s", [-8 * 24 * 3600, 6 * 60, 100 * 365 * 24 * 3600, -NOW + 1])
def test_timestamps_outside_the_window_are_refused(kind: str, offset_s: float) -> None:
    assert reason_of(kind, {**EXAMPLES[kind], "ts": NOW + offset_s}) == RejectReason.TS_OUT_OF_RANGE


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_timestamps_inside_the_window_and_rfc3339_are_accepted(kind: str) -> None:
    assert reason_of(kind, {**EXAMPLES[kind], "ts": NOW - 6 * 24 * 3600}) is None
    assert reason_of(kind, {**EXAMPLES[kind], "ts": NOW + 4 * 60}) is None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW))
    assert reason_of(kind, {**EXAMPLES[kind], "ts": stamp}) is None
    assert (
        reason_of(kind, {**EXAMPLES[kind], "ts": "2026-13-45T99:00:00Z"}) == RejectReason.WRONG_TYPE
    )
    assert (
        reason_of(kind, {**EXAMPLES[kind], "ts": "2026-01-01T00:00:00"}) == RejectReason.WRONG_TYPE
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_other_reasons(kind: str) -> None:
    assert reason_of(kind, {**EXAMPLES[kind], "id": "someone-else"}) == RejectReason.DEVICE_MISMATCH
    assert reason_of(kind, {**EXAMPLES[kind], "id": "dev-1"}) is None
    assert reason_of(kind, {**EXAMPLES[kind], "colour": "blue"}) == RejectReason.UNKNOWN_ATTRIBUTE
    assert reason_of(kind, {**EXAMPLES[kind], "seq": -1}) == RejectReason.INVALID_VALUE
    # Beyond a signed 64-bit int no store can key it: refused here, not at the write.
    assert reason_of(kind, {**EXAMPLES[kind], "seq": 2**64}) == RejectReason.INVALID_VALUE
    assert reason_of(kind, b'{"ts": 1, "seq": ') == RejectReason.INVALID_JSON
    assert reason_of(kind, b"[1, 2]") == RejectReason.INVALID_SENML
    assert reason_of(kind, b"\xff\xfe") == RejectReason.INVALID_JSON
    big = {**EXAMPLES[kind], "id": "dev-1" + " " * MAX_PAYLOAD_BYTES}
    assert reason_of(kind, big) == RejectReason.OVERSIZE


def test_topic_and_kind_checks() -> None:
    payload = json.dumps(EXAMPLES["meter"]).encode()
    assert decode("territory/a/meter/m/cmd", payload).rejection.reason == RejectReason.BAD_TOPIC  # type: ignore[union-attr]
    assert (
        decode("elsewhere/a/meter/m/telemetry", payload).rejection.reason == RejectReason.BAD_TOPIC
    )  # type: ignore[union-attr]
    assert (
        decode("territory//meter/m/telemetry", payload).rejection.reason == RejectReason.BAD_TOPIC
    )  # type: ignore[union-attr]
    assert reason_of("toaster", EXAMPLES["meter"]) == RejectReason.UNKNOWN_KIND
    registry = frozenset({"known"})
    rejected = decode(topic("meter", "stranger"), payload, known_devices=registry).rejection
    assert rejected is not None and rejected.reason == RejectReason.UNKNOWN_DEVICE
    assert decode(topic("meter", "known"), payload, known_devices=registry).rejection is None


@pytest.mark.parametrize(
    ("zone", "device"),
    [
        ("north\\", "m-1"),  # a trailing backslash: InfluxDB cannot read it as a tag
        ("north", "m-1\\"),
        ("north", "m 1"),
        ("north", "m,1"),
        ("north", "m=1"),
        ("north", 'm"1'),
        ("nörth", "m-1"),
        ("north", "m-1\n"),
        ("north", "x" * 65),
        ("z" * 65, "m-1"),
    ],
)
def test_ids_outside_the_documented_character_set_are_invalid_topics(
    zone: str, device: str
) -> None:
    payload = json.dumps(EXAMPLES["meter"]).encode()
    rejected = decode(f"territory/{zone}/meter/{device}/telemetry", payload).rejection
    assert rejected is not None and rejected.reason == RejectReason.INVALID_TOPIC
    assert repr(zone if zone != "north" else device) in rejected.detail


def test_the_longest_ids_of_the_documented_character_set_are_accepted() -> None:
    zone, device = "Z.o_n-e9" * 8, "d" * 64
    payload = json.dumps(EXAMPLES["meter"]).encode()
    decoded = decode(f"territory/{zone}/meter/{device}/telemetry", payload, int(NOW * 1e9))
    assert decoded.rejection is None
    assert (decoded.readings[0].zone, decoded.readings[0].device_id) == (zone, device)


def test_value_rules_of_kinds() -> None:
    overfull = {**EXAMPLES["bike_station"], "availableBikeNumber": 15, "freeSlotNumber": 10}
    assert reason_of("bike_station", overfull) == RejectReason.INVALID_VALUE
    half_session = {k: v for k, v in EXAMPLES["ev_charger"].items() if k != "departure"}
    assert reason_of("ev_charger", half_session) == RejectReason.MISSING_ATTRIBUTE
    assert (
        reason_of("ev_charger", {**EXAMPLES["ev_charger"], "status": "dancing"})
        == RejectReason.INVALID_VALUE
    )
    assert reason_of("air", {**EXAMPLES["air"], "pm25": -1.0}) == RejectReason.INVALID_VALUE
    assert reason_of("meter", {**EXAMPLES["meter"], "seq": True}) == RejectReason.WRONG_TYPE


def test_senml_pack_maps_onto_the_kind() -> None:
    pack = [
        {"bn": "urn:dev:station:dev-1:", "bt": NOW, "n": "seq", "v": 8},
        {"n": "availableBikeNumber", "v": 4},
        {"n": "freeSlotNumber", "v": 6},
        {"n": "totalSlotNumber", "v": 10},
        {"n": "seq", "v": 9, "t": 60},
        {"n": "availableBikeNumber", "v": 5, "t": 60},
        {"n": "freeSlotNumber", "v": 5, "t": 60},
        {"n": "totalSlotNumber", "v": 10, "t": 60},
    ]
    decoded = decode(topic("bike_station"), json.dumps(pack).encode(), arrival_ns=int(NOW * 1e9))
    assert decoded.rejection is None
    assert [(r.seq, r.fields["availableBikeNumber"]) for r in decoded.readings] == [(8, 4), (9, 5)]
    assert math.isclose(decoded.readings[1].ts - decoded.readings[0].ts, 60, abs_tol=1e-3)


def test_senml_errors_are_named() -> None:
    for bad in (
        [],
        [{"v": 1}],
        [{"n": "seq"}],
        [{"n": "seq", "v": 1, "vs": "x"}],
        [{"n": "seq", "bt": "x", "v": 1}],
    ):
        assert reason_of("meter", json.dumps(bad).encode()) == RejectReason.INVALID_SENML, bad
    pack = [
        {"bt": NOW, "n": "seq", "v": 1},
        {"n": "activePower", "vs": "high"},
        {"n": "activeEnergyImport", "v": 1},
    ]
    assert reason_of("meter", json.dumps(pack).encode()) == RejectReason.WRONG_TYPE
