"""Open usage indicators: what they compute, their metadata, and that no household can be
singled out of them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.dashboard.helpers import VIEWER_TOKEN, ConsoleServer
from tests.dashboard.opendata.helpers import H0, H1, opendata_config, start


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


PERIOD = {"start": rfc3339(H0), "end": rfc3339(H1 + 3600)}


def rows(
    client: httpx.Client, dataset: str, **params: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    answer = client.get(f"/opendata/{dataset}.json", params={**PERIOD, **params})
    assert answer.status_code == 200, answer.text
    found = answer.json()["rows"]
    key = "corridor" if dataset == "corridor-load" else "zone"
    return {(row["hour"], row[key]): row for row in found}


def test_indicators_per_zone_and_hour(opendata: ConsoleServer) -> None:
    h0, h1 = rfc3339(H0), rfc3339(H1)
    with opendata.client() as client:  # no token: open data
        bikes = rows(client, "bike-availability")
        feeders = rows(client, "feeder-load")
        air = rows(client, "air-quality")
        corridors = rows(client, "corridor-load")
    assert bikes[(h0, "centre")] == {
        "hour": h0,
        "zone": "centre",
        "stations": 1,
        "bikes_available": 4.5,
        "capacity": 20,
        "availability_ratio": 0.225,
        "suppressed": False,
    }
    # Loads 50, 60, 70, 80 kW in the first hour against a 100 kW limit.
    assert feeders[(h0, "centre")]["peak_load_kw"] == 80.0
    assert feeders[(h0, "centre")]["mean_load_kw"] == 65.0
    assert feeders[(h1, "centre")]["peak_ratio"] == 1.2
    assert air[(h0, "centre")]["pm25_mean"] == 11.5 and air[(h1, "centre")]["no2_mean"] == 30.0
    # 4 readings of 50 boardings in an hour; 100 a 15-minute slot is 400 an hour.
    assert corridors[(h0, "ligne-a")] == {
        "hour": h0,
        "corridor": "ligne-a",
        "counters": 1,
        "boardings": 200,
        "capacity": 400,
        "load_ratio": 0.5,
        "suppressed": False,
    }


def test_no_household_can_be_singled_out(opendata: ConsoleServer) -> None:
    """The centre has one home charger among public ones, and 4 meters: below k = 5.
    Nord has 5 home chargers, one of which stops reporting in the second hour, and 5
    meters. An attacker who knows every other household tries to isolate one."""
    h0, h1 = rfc3339(H0), rfc3339(H1)
    with opendata.client() as client:
        charging = rows(client, "ev-charging-energy")
        demand = rows(client, "electricity-demand")
        text = client.get("/opendata/ev-charging-energy.csv", params=PERIOD).text
        narrow = rows(client, "ev-charging-energy", start=h1, end=rfc3339(H1 + 3600))
    with opendata.client(VIEWER_TOKEN) as viewer:
        meters = viewer.get(
            "/ngsi-ld/v1/entities", params={"type": "ThreePhaseAcMeasurement"}
        ).json()
        home = viewer.get("/ngsi-ld/v1/entities/urn:ngsi-ld:EVChargingStation:centre-evc-001")

    # One home charger beside public ones: the whole cell goes, the public energy with it,
    # or public minus cell would give the household's.
    assert charging[(h0, "centre")] == {
        "hour": h0,
        "zone": "centre",
        "chargers": None,
        "energy_kwh": None,
        "suppressed": True,
    }
    # Five home chargers at 4 kW for an hour: published.
    assert charging[(h0, "nord")] == {
        "hour": h0,
        "zone": "nord",
        "chargers": 5,
        "energy_kwh": 20.0,
        "suppressed": False,
    }
    # One stops: hour 1 minus hour 0 would single it out, so hour 1 is withheld.
    assert charging[(h1, "nord")]["suppressed"] is True
    assert charging[(h1, "nord")]["energy_kwh"] is None
    # The same withheld cell whatever the period asked for.
    assert narrow[(h1, "nord")] == charging[(h1, "nord")]
    # Four centre meters are withheld; five nord meters are published.
    assert demand[(h0, "centre")]["suppressed"] is True
    assert demand[(h0, "centre")]["power_kw"] is None and demand[(h0, "centre")]["meters"] is None
    assert demand[(h0, "nord")] == {
        "hour": h0,
        "zone": "nord",
        "meters": 5,
        "power_kw": 6.5,
        "suppressed": False,
    }
    # No published cell anywhere holds between 1 and k-1 households.
    for cell in [*charging.values(), *demand.values()]:
        count = cell.get("chargers") or cell.get("meters")
        assert cell["suppressed"] or count is None or count >= 5
    # The CSV withholds the same cells.
    table = list(csv.DictReader(io.StringIO(text)))
    centre = next(r for r in table if r["zone"] == "centre" and r["hour"] == h0)
    assert centre == {
        "hour": h0,
        "zone": "centre",
        "chargers": "",
        "energy_kwh": "",
        "suppressed": "True",
    }
    # And no household device is shown one by one over NGSI-LD.
    assert [e["id"] for e in meters] == [
        "urn:ngsi-ld:ThreePhaseAcMeasurement:f-centre",
        "urn:ngsi-ld:ThreePhaseAcMeasurement:f-nord",
    ]
    assert home.status_code == 404


def test_catalogue_and_metadata_for_a_national_portal(opendata: ConsoleServer) -> None:
    with opendata.client() as client:
        catalogue = client.get("/opendata/catalog.json").json()
        metadata = client.get("/opendata/air-quality/metadata.json").json()
        table = client.get("/opendata/air-quality.json", params=PERIOD).json()["metadata"]
        unknown = client.get("/opendata/households.json")
        too_long = client.get(
            "/opendata/air-quality.json", params={"start": "2020-01-01T00:00:00Z"}
        )
    assert catalogue["@type"] == "dcat:Catalog"
    assert [d["dct:identifier"] for d in catalogue["dcat:dataset"]] == [
        "bike-availability",
        "ev-charging-energy",
        "electricity-demand",
        "feeder-load",
        "corridor-load",
        "air-quality",
    ]
    for field in (
        "dct:title",
        "dct:description",
        "dct:license",
        "dct:accrualPeriodicity",
        "dcat:distribution",
        "dct:publisher",
        "dcat:theme",
        "dcat:keyword",
    ):
        assert field in metadata, field
    assert metadata["dct:license"] == "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    assert metadata["dct:accrualPeriodicity"].endswith("/frequency/HOURLY")
    assert {d["dcat:mediaType"] for d in metadata["dcat:distribution"]} == {
        "application/json",
        "text/csv",
    }
    assert table["dct:temporal"] == {
        "dcat:startDate": PERIOD["start"],
        "dcat:endDate": PERIOD["end"],
    }
    assert unknown.status_code == 404
    assert too_long.status_code == 400


def test_k_comes_from_the_configuration(tmp_path: Path) -> None:
    running = start(tmp_path, opendata_config(privacy={"k": 6, "public_devices": ["*-pub-*"]}))
    try:
        with running.client() as client:
            charging = rows(client, "ev-charging-energy")
    finally:
        running.stop()
        running.store.close()
    # Five home chargers are no longer enough.
    assert charging[(rfc3339(H0), "nord")]["suppressed"] is True
