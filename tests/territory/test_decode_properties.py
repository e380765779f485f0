"""Property tests: the decoder never raises, and what it accepts round-trips."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from territory.decode import decode
from territory.kinds import KINDS

NOW = time.time()
topics = st.builds(
    lambda zone, kind, device: f"territory/{zone}/{kind}/{device}/telemetry",
    st.text(min_size=0, max_size=5),
    st.sampled_from([*KINDS, "nope"]),
    st.text(min_size=0, max_size=5),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=12,
)


@given(topic=topics | st.text(max_size=40), payload=st.binary(max_size=300))
@settings(max_examples=400, deadline=None)
def test_decoder_never_raises_on_bytes(topic: str, payload: bytes) -> None:
    decoded = decode(topic, payload)
    assert (decoded.rejection is None) == bool(decoded.readings)


@given(topic=topics, document=json_values)
@settings(max_examples=400, deadline=None)
def test_decoder_never_raises_on_json(topic: str, document: object) -> None:
    decoded = decode(topic, json.dumps(document).encode())
    assert (decoded.rejection is None) == bool(decoded.readings)


@given(
    seq=st.integers(min_value=0, max_value=2**40),
    power=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    energy=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    age=st.floats(min_value=0, max_value=6 * 86400),
)
@settings(max_examples=300, deadline=None)
def test_valid_meter_readings_round_trip(seq: int, power: float, energy: float, age: float) -> None:
    payload = {"ts": NOW - age, "seq": seq, "activePower": power, "activeEnergyImport": energy}
    decoded = decode(
        "territory/z/meter/m-1/telemetry", json.dumps(payload).encode(), arrival_ns=int(NOW * 1e9)
    )
    assert decoded.rejection is None
    (reading,) = decoded.readings
    assert reading.seq == seq
    assert reading.fields == {"activePower": power, "activeEnergyImport": energy}
    assert abs(reading.ts - (NOW - age)) < 1e-5
