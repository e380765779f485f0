"""The console's filters over a real influxd: what a client puts in `kind`, `zone` or a
device id reaches InfluxQL quoted, so an injection finds nothing and breaks nothing."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from dashboard.app import create_app
from territory.store.influx import InfluxStore
from tests.dashboard.helpers import VIEWER_TOKEN, RunningApp, secured_config, seed, start_app
from tests.services import Influxd
from tests.territory.test_influxql import INJECTIONS


@pytest.fixture(scope="module")
def console_over_influx(influxd: Influxd) -> Iterator[RunningApp]:
    url = influxd.store_url("console_injection")
    store = InfluxStore.from_url(url)
    seed(store)  # type: ignore[arg-type]
    store.close()
    # Many requests per case, all on one token: a limit well above them (not what is tested).
    config = secured_config(rate_limit={"per_minute": 6000, "burst": 600})
    running = start_app(create_app(url, config=config))
    yield running
    running.stop()


@pytest.mark.parametrize("value", [v for v in INJECTIONS if "\x00" not in v])
def test_injected_filters_find_nothing(console_over_influx: RunningApp, value: str) -> None:
    with console_over_influx.client(VIEWER_TOKEN) as http:
        for params in ({"kind": value}, {"zone": value}, {"kind": "bike_station", "zone": value}):
            response = http.get("/api/devices", params=params)
            assert response.status_code == 200, (params, response.text)
            assert response.json() == [], params
        history = http.get(f"/api/devices/{quote(value, safe='')}/history")
        assert history.status_code == 404, history.text  # no such device, not an error
        zone = http.get(f"/api/zones/{quote(value, safe='')}/history", params={"kind": "feeder"})
        assert zone.status_code == 404, zone.text  # no such zone, not an error
        everything = http.get("/api/devices").json()
    assert len(everything) == 5  # still the seeded five, untouched


def test_honest_filters_still_work(console_over_influx: RunningApp) -> None:
    with console_over_influx.client(VIEWER_TOKEN) as http:
        north = http.get("/api/devices", params={"kind": "bike_station", "zone": "north"})
    assert sorted(d["device_id"] for d in north.json()) == ["st-north-1", "st-north-2"]
