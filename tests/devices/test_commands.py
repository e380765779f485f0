"""Command payloads as the optimiser publishes them, and the ones the twin refuses."""

from __future__ import annotations

import json

import pytest

from devices.clock import VirtualClock
from devices.commands import ChargerSetpoint, CommandError, SlotShift, VanRoute, parse_command
from devices.scenario import Scenario
from devices.twin import Twin
from tests.devices.helpers import START, ListSink


def _bytes(document: object) -> bytes:
    return json.dumps(document).encode()


def test_the_three_command_shapes_parse() -> None:
    setpoint = parse_command(
        "territory/a/ev_charger/a-evc-001/cmd",
        _bytes({"ts": 1.0, "setpoint": 3.5, "valid_until": 60.0, "plan": "p1"}),
    )
    assert setpoint == [
        ChargerSetpoint(device_id="a-evc-001", ts=1.0, setpoint=3.5, valid_until=60.0, plan="p1")
    ]
    route = parse_command(
        "territory/b/van/van-1/cmd",
        _bytes({"ts": 1.0, "plan": "p2", "stops": [{"station": "a-bik-001", "load": 4}]}),
    )
    assert isinstance(route[0], VanRoute) and route[0].van_id == "van-1"
    plan = {
        "domain": "slots",
        "created": 1.0,
        "status": "optimal",
        "body": {
            "kpis": {},
            "moves": [{"corridor": "c1", "from_slot": 0, "to_slot": 900, "count": 12}],
        },
    }
    assert parse_command("territory/plans/slots", _bytes(plan)) == [
        SlotShift(corridor="c1", from_slot=0, to_slot=900, count=12)
    ]


@pytest.mark.parametrize(
    ("topic", "payload", "names"),
    [
        ("territory/a/ev_charger/x/cmd", b"{not json", "not JSON"),
        (
            "territory/a/ev_charger/x/cmd",
            _bytes({"ts": 1, "setpoint": -1, "valid_until": 2}),
            "setpoint",
        ),
        ("territory/a/ev_charger/x/cmd", _bytes({"ts": 1, "valid_until": 2}), "setpoint"),
        (
            "territory/a/ev_charger/x/cmd",
            _bytes({"ts": 1, "setpoint": 1, "valid_until": 2, "colour": 1}),
            "colour",
        ),
        ("territory/a/van/v/cmd", _bytes({"ts": 1, "stops": [{"station": "s"}]}), "stops.0.load"),
        ("territory/a/meter/m/cmd", _bytes({}), "not a command topic"),
        ("territory/plans/slots", _bytes({"body": {"moves": [{"corridor": "c"}]}}), "from_slot"),
    ],
)
def test_bad_commands_are_refused_with_the_field_named(
    topic: str, payload: bytes, names: str
) -> None:
    with pytest.raises(CommandError, match=names):
        parse_command(topic, payload)


def test_commuters_follow_a_slot_move_as_far_as_they_comply(tiny: Scenario) -> None:
    twin = Twin(tiny, VirtualClock(START), ListSink(), seed=4)
    twin.run_until(START + 1)
    slots = twin.flows.outlook(twin.t, 3 * 3600)
    source, target = slots[2], slots[5]
    assert twin.apply(
        SlotShift(corridor="c1", from_slot=source.start, to_slot=target.start, count=40)
    )
    after = {s.start: s for s in twin.flows.outlook(twin.t, 3 * 3600)}
    moved = source.planned - after[source.start].planned
    assert after[target.start].planned - target.planned == moved
    compliance = tiny.corridors[0].compliance
    assert 0 < moved < 40 and abs(moved - 40 * compliance) <= 12
