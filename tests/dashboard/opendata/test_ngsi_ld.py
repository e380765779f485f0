"""The read-only NGSI-LD API over a real store: types, ids, q, pages, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.dashboard.helpers import VIEWER_TOKEN, ConsoleServer
from tests.dashboard.opendata.helpers import H0, H1

STATION_1 = "urn:ngsi-ld:BikeHireDockingStation:st-1"


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def get(client: httpx.Client, path: str, **params: Any) -> httpx.Response:
    return client.get(path, params=params)


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [entity["id"] for entity in answer.json()]


def test_a_viewer_token_is_needed(opendata: ConsoleServer) -> None:
    with opendata.client() as anonymous:
        assert anonymous.get("/ngsi-ld/v1/types").status_code == 401
    with opendata.client(VIEWER_TOKEN) as client:
        assert client.get("/ngsi-ld/v1/types").status_code == 200


def test_types_and_entities_by_type_and_id(opendata: ConsoleServer) -> None:
    with opendata.client(VIEWER_TOKEN) as client:
        types = client.get("/ngsi-ld/v1/types").json()
        stations = get(client, "/ngsi-ld/v1/entities", type="BikeHireDockingStation")
        two = get(
            client, "/ngsi-ld/v1/entities", id=f"{STATION_1},urn:ngsi-ld:AirQualityObserved:air-1"
        )
        one = client.get(f"/ngsi-ld/v1/entities/{STATION_1}")
        missing = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:BikeHireDockingStation:st-9")
        no_filter = client.get("/ngsi-ld/v1/entities")
    # Household meters and home chargers are not shown one by one (public chargers are).
    assert types["typeList"] == [
        "AirQualityObserved",
        "BikeHireDockingStation",
        "CrowdFlowObserved",
        "EVChargingStation",
        "ThreePhaseAcMeasurement",
        "TrafficFlowObserved",
    ]
    assert ids(stations) == [
        STATION_1,
        "urn:ngsi-ld:BikeHireDockingStation:st-2",
        "urn:ngsi-ld:BikeHireDockingStation:st-3",
    ]
    assert stations.headers["link"].startswith("<https://smartdatamodels.org/context.jsonld>")
    assert ids(two) == ["urn:ngsi-ld:AirQualityObserved:air-1", STATION_1]
    entity = one.json()
    assert entity["type"] == "BikeHireDockingStation"
    assert entity["availableBikeNumber"]["value"] == 7
    assert entity["outOfServiceSlotNumber"]["value"] == 2
    assert entity["status"] == {
        "type": "Property",
        "value": "working",
        "observedAt": entity["availableBikeNumber"]["observedAt"],
    }
    assert entity["name"]["value"] == "Gare"
    assert entity["location"]["value"]["type"] == "Point"
    lon, lat = entity["location"]["value"]["coordinates"]
    assert (round(lat, 4), round(lon, 4)) == (48.1118, -1.6787)
    assert missing.status_code == 404
    assert missing.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    assert no_filter.status_code == 400
    assert no_filter.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def test_q_filters_on_attribute_values(opendata: ConsoleServer) -> None:
    stations = "BikeHireDockingStation"
    with opendata.client(VIEWER_TOKEN) as client:
        more_than_five = get(
            client, "/ngsi-ld/v1/entities", type=stations, q="availableBikeNumber>5"
        )
        working = get(client, "/ngsi-ld/v1/entities", type=stations, q='status=="working"')
        ranged = get(client, "/ngsi-ld/v1/entities", type=stations, q="freeSlotNumber==10..16")
        either = get(
            client,
            "/ngsi-ld/v1/entities",
            type=stations,
            q='status=="withIncidence"|availableBikeNumber>=7',
        )
        both = get(client, "/ngsi-ld/v1/entities", q='availableBikeNumber>=0;status~="^with"')
        exists = get(client, "/ngsi-ld/v1/entities", q="intensity")
        broken = get(client, "/ngsi-ld/v1/entities", q="(a==1|b==2);c==3")
    assert ids(more_than_five) == [STATION_1]
    assert ids(working) == [STATION_1]
    assert ids(ranged) == [STATION_1, "urn:ngsi-ld:BikeHireDockingStation:st-2"]
    assert ids(either) == [STATION_1, "urn:ngsi-ld:BikeHireDockingStation:st-2"]
    assert ids(both) == ["urn:ngsi-ld:BikeHireDockingStation:st-2"]
    assert ids(exists) == ["urn:ngsi-ld:TrafficFlowObserved:trf-1"]
    assert broken.status_code == 400 and "parentheses" in broken.json()["detail"]


def test_pages_with_count_and_next_link(opendata: ConsoleServer) -> None:
    with opendata.client(VIEWER_TOKEN) as client:
        first = get(
            client, "/ngsi-ld/v1/entities", type="BikeHireDockingStation", limit=2, count="true"
        )
        second = get(
            client, "/ngsi-ld/v1/entities", type="BikeHireDockingStation", limit=2, offset=2
        )
        too_many = get(client, "/ngsi-ld/v1/entities", type="BikeHireDockingStation", limit=5000)
    assert len(ids(first)) == 2 and first.headers["ngsild-results-count"] == "3"
    assert 'offset=2>; rel="next"' in first.headers["link"]
    assert ids(second) == ["urn:ngsi-ld:BikeHireDockingStation:st-3"]
    assert 'offset=0>; rel="prev"' in second.headers["link"]
    assert too_many.status_code == 400


def test_json_ld_carries_the_context_in_the_body(opendata: ConsoleServer) -> None:
    with opendata.client(VIEWER_TOKEN) as client:
        answer = client.get(
            f"/ngsi-ld/v1/entities/{STATION_1}", headers={"Accept": "application/ld+json"}
        )
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert "https://smartdatamodels.org/context.jsonld" in answer.json()["@context"]


def test_temporal_queries_read_the_stored_history(opendata: ConsoleServer) -> None:
    air = "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:air-1"
    with opendata.client(VIEWER_TOKEN) as client:
        between = get(
            client,
            air,
            timerel="between",
            timeAt=rfc3339(H0 + 900),
            endTimeAt=rfc3339(H0 + 2700),
            attrs="pm25",
        )
        before = get(client, air, timerel="before", timeAt=rfc3339(H0 + 1800))
        after = get(client, air, timerel="after", timeAt=rfc3339(H1), lastN=2)
        missing_end = get(client, air, timerel="between", timeAt=rfc3339(H0))
        household = get(
            client,
            "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:ThreePhaseAcMeasurement:nord-mtr-001",
            timerel="after",
            timeAt=rfc3339(H0),
        )
    instances = between.json()["pm25"]
    assert [i["value"] for i in instances] == [11.0, 12.0]
    assert [i["observedAt"] for i in instances] == [rfc3339(H0 + 900), rfc3339(H0 + 1800)]
    assert "pm10" not in between.json()
    assert [i["value"] for i in before.json()["pm25"]] == [10.0, 11.0]
    assert [i["value"] for i in after.json()["pm25"]] == [16.0, 17.0]
    assert missing_end.status_code == 400
    assert household.status_code == 404
