"""The published GBFS 3.0 system: every file valid against the official 3.0 schema."""

from __future__ import annotations

from pathlib import Path

from bridges.gbfs import validation
from tests.dashboard.helpers import ConsoleServer
from tests.dashboard.opendata.helpers import opendata_config, start


def test_every_file_validates_against_the_official_schema_without_a_token(
    opendata: ConsoleServer,
) -> None:
    with opendata.client() as client:  # no token: GBFS is public
        discovery = client.get("/gbfs/gbfs.json")
        assert discovery.status_code == 200
        files = {"gbfs": discovery.json()}
        for feed in discovery.json()["data"]["feeds"]:
            answer = client.get(feed["url"])
            assert answer.status_code == 200, feed
            assert answer.headers["cache-control"] == f"public, max-age={answer.json()['ttl']}"
            files[feed["name"]] = answer.json()
        files["manifest"] = client.get("/gbfs/manifest.json").json()
    assert set(files) == {
        "gbfs",
        "manifest",
        "gbfs_versions",
        "system_information",
        "station_information",
        "station_status",
        "vehicle_types",
    }
    for name, document in files.items():
        assert validation.problem("3.0", name, document) is None, name
        assert document["version"] == "3.0"


def test_files_say_what_the_store_and_inventory_say(opendata: ConsoleServer) -> None:
    with opendata.client() as client:
        system = client.get("/gbfs/system_information.json").json()
        information = client.get("/gbfs/station_information.json").json()
        status = client.get("/gbfs/station_status.json").json()
    assert system["data"]["license_id"] == "etalab-2.0"
    assert "license_url" not in system["data"]  # GBFS takes the SPDX id alone
    assert system["ttl"] == 3600 and status["ttl"] == 60
    # st-3 has no position: it cannot be published.
    assert [s["station_id"] for s in information["data"]["stations"]] == ["st-1", "st-2"]
    gare = information["data"]["stations"][0]
    assert gare["name"] == [{"text": "Gare", "language": "fr"}]
    assert (gare["capacity"], round(gare["lat"], 4), round(gare["lon"], 4)) == (
        20,
        48.1118,
        -1.6787,
    )
    by_id = {s["station_id"]: s for s in status["data"]["stations"]}
    assert by_id["st-1"]["num_vehicles_available"] == 7
    assert by_id["st-1"]["num_docks_available"] == 11
    assert by_id["st-1"]["num_docks_disabled"] == 2
    assert (by_id["st-1"]["is_renting"], by_id["st-1"]["is_returning"]) == (True, True)
    # withIncidence with no bike: returns only.
    assert (by_id["st-2"]["is_renting"], by_id["st-2"]["is_returning"]) == (False, True)
    assert status["last_updated"] == max(s["last_reported"] for s in by_id.values())


def test_public_routes_are_rate_limited_per_address(tmp_path: Path) -> None:
    running = start(tmp_path, opendata_config(public_rate_limit={"per_minute": 1, "burst": 3}))
    try:
        with running.client() as client:
            codes = [client.get("/gbfs/gbfs.json").status_code for _ in range(5)]
            refused = client.get("/gbfs/station_status.json")
    finally:
        running.stop()
        running.store.close()
    assert codes == [200, 200, 200, 429, 429]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
