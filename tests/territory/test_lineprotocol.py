"""Line protocol round-trips through a real influxd: what `line()` writes is read back
exactly, and what it refuses is exactly what its module documents as unwritable."""

from __future__ import annotations

import itertools
import math
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from territory.readings import FieldValue
from territory.store.influxql import identifier
from territory.store.lineprotocol import LineProtocolError, line
from tests.services import Influxd

DATABASE = "lineprotocol"
# Characters that line protocol or InfluxQL treat specially, drawn often on purpose; the
# ones a name cannot hold are inserted now and then, so that most examples get written.
_SPECIAL = [",", " ", "=", '"', "'", "\t", "#", "\x00", "é", "🦆"]
_UNWRITABLE = ["\\", "\n", "\r", "\x00"]
_CHARACTER = st.one_of(st.sampled_from(_SPECIAL), st.characters(exclude_categories=["Cs"]))


@st.composite
def _text(draw: st.DrawFn, min_size: int = 1, max_size: int = 8) -> str:
    text = draw(st.text(_CHARACTER, min_size=min_size, max_size=max_size))
    spoiler = draw(st.sampled_from([""] * 80 + _UNWRITABLE))
    at = draw(st.integers(min_value=0, max_value=len(text)))
    return text[:at] + spoiler + text[at:]


_NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.integers(min_value=-(2**60), max_value=2**60),
)
_VALUE: st.SearchStrategy[FieldValue] = st.one_of(
    _text(min_size=0, max_size=12), _NUMBER, _NUMBER, st.booleans()
)
_INTEGER = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([-(2**63), 2**63 - 1, 0]),
    st.sampled_from([2**63, -(2**63) - 1, 2**64]),
)


@st.composite
def _point(
    draw: st.DrawFn,
) -> tuple[str, dict[str, str], dict[str, FieldValue], dict[str, int]]:
    """A measurement, and tag, field and integer-field keys that are all distinct."""
    keys = draw(st.lists(_text(), unique=True, min_size=1, max_size=7))
    keys += draw(st.sampled_from([[]] * 20 + [[""], ["time"]]))
    tag_count, field_count = sorted(
        draw(st.lists(st.integers(0, len(keys)), min_size=2, max_size=2))
    )
    tags = {key: draw(_text(min_size=0, max_size=12)) for key in keys[:tag_count]}
    fields = {key: draw(_VALUE) for key in keys[tag_count:field_count]}
    integers = {key: draw(_INTEGER) for key in keys[field_count:]}
    measurement = draw(st.sampled_from([""] * 20 + ["#", "\t"])) + draw(_text())
    return measurement, tags, fields, integers


_measurements = itertools.count()


def _writable(name: str) -> bool:
    """The module's documented rule for names, written independently of its code."""
    return name != "" and not any(c in name for c in "\\\n\r\x00")


def _refused(
    measurement: str,
    tags: dict[str, str],
    fields: dict[str, FieldValue],
    integers: dict[str, int],
) -> bool:
    keys = [*tags, *fields, *integers]
    return (
        not _writable(measurement)
        or measurement.startswith(("#", "\t"))
        or any(not _writable(key) or key == "time" for key in keys)
        or any(key.startswith("\t") for key in [*fields, *integers])
        or any(value and not _writable(value) for value in tags.values())
        or not (fields or integers)
        or any(isinstance(v, float) and not math.isfinite(v) for v in fields.values())
        or any(not -(2**63) <= v < 2**63 for v in integers.values())
    )


@pytest.fixture(scope="module")
def influx(influxd: Influxd) -> Influxd:
    httpx.post(f"{influxd.url}/query", data={"q": f'CREATE DATABASE "{DATABASE}"'})
    return influxd


def _write(server: Influxd, text: str) -> httpx.Response:
    return httpx.post(f"{server.url}/write", params={"db": DATABASE}, content=text.encode())


def _read(server: Influxd, measurement: str) -> list[dict[str, Any]]:
    query = f"SELECT * FROM {identifier(measurement)} GROUP BY *"
    answer = httpx.get(
        f"{server.url}/query", params={"db": DATABASE, "q": query, "epoch": "ns"}
    ).json()
    series: list[dict[str, Any]] = answer["results"][0].get("series", [])
    return series


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(point=_point())
def test_a_point_reads_back_as_written_or_is_refused_as_documented(
    influx: Influxd, point: tuple[str, dict[str, str], dict[str, FieldValue], dict[str, int]]
) -> None:
    measurement, tags, fields, integers = point
    # A measurement of its own per example: a field's type is fixed per measurement.
    measurement += f"~{next(_measurements)}"
    timestamp = 1_000_000 + next(_measurements)
    refused = _refused(measurement, tags, fields, integers)
    event("refused" if refused else "written")
    if refused:
        with pytest.raises(LineProtocolError):
            line(measurement, tags, fields, timestamp, integers)
        return

    written = line(measurement, tags, fields, timestamp, integers)
    response = _write(influx, written)
    assert response.status_code == 204, (written, response.text)

    (series,) = _read(influx, measurement)
    assert series["name"] == measurement
    assert {k: v for k, v in series.get("tags", {}).items() if v} == {
        k: v for k, v in tags.items() if v
    }
    (row,) = series["values"]
    record = dict(zip(series["columns"], row, strict=True))
    assert record.pop("time") == timestamp
    expected: dict[str, Any] = {**fields, **integers}
    assert set(record) == set(expected)
    for key, value in expected.items():
        if isinstance(value, bool | str):
            assert record[key] == value, key
        else:
            assert float(record[key]) == float(value), key
