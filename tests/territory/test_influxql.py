"""Values that reach InfluxQL cannot change what a query asks: injections against a real
influxd find nothing, fail nothing and change nothing."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import httpx
import pytest

from territory.readings import Reading
from territory.store import Plan
from territory.store.influx import InfluxStore
from territory.store.influxql import identifier, integer, literal
from territory.store.lineprotocol import line
from tests.services import Influxd

_databases = itertools.count()
NOW_NS = time.time_ns() // 1000 * 1000

# Each tries to widen a filter, end the statement early, or break out of the quotes.
INJECTIONS = [
    "meter' OR 1=1 --",
    "meter' OR '1'='1",
    'meter" OR 1=1 --',
    'meter"; DROP DATABASE "injected',
    "north' OR zone =~ /.*/ --",
    "north\\' OR ''='",
    "north\\",
    "north\\\\' OR 1=1 --",
    "x'; DROP MEASUREMENT meter; --",
    "north\n' OR 1=1",
    "north\x00' OR 1=1",
    "/.*/",
    "*",
]


def meter(device: str, zone: str, seq: int) -> Reading:
    fields: dict[str, float | int | str | bool] = {"activePower": 1.0, "activeEnergyImport": 2.0}
    return Reading("meter", zone, device, NOW_NS - seq * 10**9, seq, fields, NOW_NS)


@pytest.fixture
def store(influxd: Influxd) -> Iterator[InfluxStore]:
    opened = InfluxStore.from_url(influxd.store_url(f"injection{next(_databases)}"))
    opened.write([meter("m-1", "north", 1), meter("m-2", "south", 2)])
    opened.write_plan(Plan(domain="energy", created=time.time(), status="optimal", body={}))
    yield opened
    opened.close()


def _intact(store: InfluxStore) -> None:
    stats = store.stats()
    assert (stats.readings, stats.devices) == (2, 2)
    assert len(store.plans()) == 1


@pytest.mark.parametrize("value", INJECTIONS)
def test_an_injected_kind_zone_or_device_finds_nothing_and_changes_nothing(
    store: InfluxStore, value: str
) -> None:
    assert store.latest(kind=value) == []
    assert store.latest(zone=value) == []
    assert store.latest(kind="meter", zone=value) == []
    assert store.history(value, 0, NOW_NS + 10**9) == []
    assert store.plans(domain=value) == []
    _intact(store)


def test_the_same_filters_still_find_what_they_should(store: InfluxStore) -> None:
    assert [r.device_id for r in store.latest(kind="meter", zone="north")] == ["m-1"]
    assert [r.device_id for r in store.history("m-2", 0, NOW_NS + 10**9)] == ["m-2"]
    assert [p.domain for p in store.plans(domain="energy")] == ["energy"]


def test_quoted_values_reach_influxdb_as_the_very_same_text(influxd: Influxd) -> None:
    """Whatever the text, a quoted literal compares equal to itself and to nothing else."""
    database = f"quoting{next(_databases)}"
    httpx.post(f"{influxd.url}/query", data={"q": f"CREATE DATABASE {identifier(database)}"})
    texts = ["plain", "it's", 'say "hi"', "back\\slash", "trailing\\", "two\nlines", "é 🦆"]
    body = "\n".join(
        line("quoted measurement", {}, {"text": text}, i + 1) for i, text in enumerate(texts)
    )
    written = httpx.post(f"{influxd.url}/write", params={"db": database}, content=body.encode())
    assert written.status_code == 204
    for text in texts:
        query = f"SELECT text FROM {identifier('quoted measurement')} WHERE text = {literal(text)}"
        answer = httpx.get(f"{influxd.url}/query", params={"db": database, "q": query}).json()
        (series,) = answer["results"][0]["series"]
        assert [row[1] for row in series["values"]] == [text]


def test_nothing_but_an_integer_becomes_a_number_in_a_query() -> None:
    assert integer(42) == "42"
    with pytest.raises(TypeError):
        integer("1 OR 1=1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        integer(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NUL"):
        literal("a\x00b")
