"""The server-sent event stream: a snapshot, then new readings as they are stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.dashboard.helpers import VIEWER_TOKEN, ConsoleServer, events, station


def next_update_with(
    stream: Iterator[tuple[str, str, dict[str, Any]]], device_id: str
) -> tuple[str, dict[str, Any]]:
    for kind, event_id, body in stream:
        if kind == "update" and any(r["device_id"] == device_id for r in body.get("readings", [])):
            return event_id, body
    raise AssertionError("the stream ended")


def test_a_new_reading_arrives_on_the_stream(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http, http.stream("GET", "/api/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        kind, _, snapshot = next(stream)
        assert kind == "snapshot"
        assert {r["device_id"] for r in snapshot["readings"]} >= {"st-north-1", "fd-north"}
        assert snapshot["plans"]["energy"]["status"] == "optimal"

        secured.store.write([station("st-north-1", "north", seq=2, bikes=3)])

        _, update = next_update_with(stream, "st-north-1")
    [changed] = [r for r in update["readings"] if r["device_id"] == "st-north-1"]
    assert changed["fields"]["availableBikeNumber"] == 3
    assert changed["seq"] == 2
    north = [z for z in update.get("zones", []) if z["id"] == "north"]
    assert north and north[0]["bikes_available"] == 3


def test_a_reconnecting_client_gets_only_what_it_missed(secured: ConsoleServer) -> None:
    with secured.client(VIEWER_TOKEN) as http:
        with http.stream("GET", "/api/stream") as response:
            _, seen, _ = next(events(response))
        secured.store.write([station("st-south-1", "south", seq=2, bikes=4)])
        with http.stream("GET", "/api/stream", headers={"Last-Event-ID": seen}) as response:
            stream = events(response)
            kind, event_id, body = next(stream)
    assert kind == "update"
    assert int(event_id) > int(seen)
    assert [r["device_id"] for r in body["readings"]] == ["st-south-1"]


def test_an_unknown_batch_number_gets_a_fresh_snapshot(secured: ConsoleServer) -> None:
    with (
        secured.client(VIEWER_TOKEN) as http,
        http.stream("GET", "/api/stream?since=999999") as response,
    ):
        kind, _, body = next(events(response))
    assert kind == "snapshot"
    assert len(body["readings"]) == 5
