"""The bridge's rules on their own: floor shares, the base load's pairing of feeder and
charger readings, reflex limits, phrasing a profile, reading basic auth."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from bridges.ocpp.auth import basic_credentials, charge_point_id_of
from bridges.ocpp.feeders import DrawHistory, floor_shares, reflex_limits
from bridges.ocpp.profiles import Capabilities, ChargerConfig, request
from bridges.ocpp.registry import Connector, FeederEntry
from territory.inventory import Device


def feeder(limit_kw: float, caps: list[float]) -> FeederEntry:
    connectors = [
        Connector(
            Device(id=f"ev{i}", kind="ev_charger", zone="z", feeder="f", max_power_kw=cap),
            f"CP{i}",
            1,
        )
        for i, cap in enumerate(caps)
    ]
    return FeederEntry("f", "z", limit_kw, connectors)


@given(
    limit=st.floats(1, 500),
    base=st.floats(0, 600),
    caps=st.lists(st.floats(1, 50), min_size=1, max_size=8),
    planned=st.lists(st.floats(0, 60), max_size=8),
)
def test_floor_shares_never_exceed_the_allowance_nor_a_chargers_power(
    limit: float, base: float, caps: list[float], planned: list[float]
) -> None:
    entry = feeder(limit, caps)
    plan = {f"ev{i}": kw for i, kw in enumerate(planned[: len(caps)])}
    shares = floor_shares(entry, base, plan)
    assert set(shares) == {c.device_id for c in entry.connectors}
    assert sum(shares.values()) <= max(limit - base, 0.0) + 1e-6
    for connector in entry.connectors:
        assert 0 <= shares[connector.device_id] <= connector.max_power_kw + 1e-9


def test_floor_shares_keep_the_plan_and_share_the_rest() -> None:
    entry = feeder(40.0, [22.0, 22.0, 22.0])
    shares = floor_shares(entry, 10.0, {"ev0": 20.0})
    assert shares["ev0"] >= 20.0
    assert abs(sum(shares.values()) - 30.0) < 0.01


def test_a_feeder_reading_is_paired_with_the_draws_of_its_own_time() -> None:
    draws = DrawHistory()
    assert draws.at(100.0) == 0.0  # never reported: its draw counts as base load
    draws.add(100.0, 0.0)  # plugged in...
    draws.add(100.0, 11.0)  # ...and drawing, said at once
    draws.add(200.0, 0.0)  # the vehicle left
    assert draws.at(150.0) == 11.0  # a late feeder reading of 150 had the vehicle on it
    assert draws.at(250.0) == 0.0
    assert draws.at(50.0) == 11.0  # before the first reading: what the charger said first


def test_a_raised_limit_makes_the_draw_unsure_until_the_charger_reports() -> None:
    draws = DrawHistory()
    draws.add(90.0, 5.0)
    draws.accepted("max", 22.0, at=95.0, end=None)
    draws.accepted("tx", 5.0, at=100.0, end=400.0)
    assert not draws.unsure_at(140.0, grace_s=120.0)  # limits only lowered so far
    draws.accepted("tx", 11.0, at=150.0, end=400.0)  # a higher set-point
    assert not draws.unsure_at(149.0, grace_s=120.0)
    assert draws.unsure_at(160.0, grace_s=120.0)  # it may draw 11 kW, it said 5
    assert not draws.unsure_at(280.0, grace_s=120.0)  # silent too long: taken as it said
    draws.add(170.0, 11.0)
    assert not draws.unsure_at(180.0, grace_s=120.0)
    # The Tx profile lapses at 400: the station's 22 kW max profile holds, higher.
    assert not draws.unsure_at(399.0, grace_s=120.0)
    assert draws.unsure_at(410.0, grace_s=120.0)
    draws.accepted("max", 10.0, at=420.0, end=None)  # lowered: nothing to wait for
    draws.add(415.0, 10.0)
    assert not draws.unsure_at(430.0, grace_s=120.0)


def test_the_reflex_leaves_the_margin_and_is_none_within_the_limit() -> None:
    entry = feeder(100.0, [22.0, 22.0])
    assert reflex_limits(entry, 99.0, {"ev0": 20, "ev1": 10}, 0.05) is None
    limits = reflex_limits(entry, 120.0, {"ev0": 20, "ev1": 10}, 0.05)
    assert limits is not None
    base = 120.0 - 30.0
    assert abs(sum(limits.values()) - (95.0 - base)) < 0.01
    assert limits["ev0"] > limits["ev1"]  # in proportion to the draw


def test_amps_are_rounded_down_and_watts_preferred_when_allowed() -> None:
    amps = Capabilities(ChargerConfig.parse("2", "Current"))
    watts = Capabilities(ChargerConfig.parse("4", "Current,Power"))
    a = request(amps, "tx", 1, 7.4, now=1000.0, until=1120.0, transaction_id="7", phases=1)
    assert (a.unit, a.limit, a.stack_level, a.duration_s) == ("A", 32.1, 2, 120)
    assert a.v16()["cs_charging_profiles"]["transaction_id"] == 7
    w = request(watts, "tx_default", 1, 7.4, now=1000.0, until=1120.0)
    assert (w.unit, w.limit, w.stack_level) == ("W", 7400.0, 4)
    assert w.v201()["charging_profile"]["charging_schedule"][0]["duration"] == 120


def test_a_rejection_narrows_only_what_is_not_proven() -> None:
    caps = Capabilities(ChargerConfig.parse("3", "A,W"))
    first = request(caps, "tx_default", 1, 5.0, now=0.0, until=60.0)
    assert caps.learn_from_rejection(first) and caps.unit == "A"
    caps.accepted(request(caps, "max", 0, 5.0, now=0.0, until=None))
    again = request(caps, "tx_default", 1, 5.0, now=0.0, until=60.0)
    assert not caps.learn_from_rejection(again)
    assert not caps.takes_tx_default and caps.stack_level == 3


def test_basic_auth_and_paths() -> None:
    token = base64.b64encode(b"CP-1:s3cr:et").decode()
    assert basic_credentials(f"Basic {token}") == ("CP-1", "s3cr:et")
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("Basic !!!") is None
    assert charge_point_id_of("/ocpp/CP%201") == "CP 1"
    assert charge_point_id_of("/CP-1") is None
    assert charge_point_id_of("/ocpp/a/b") is None
