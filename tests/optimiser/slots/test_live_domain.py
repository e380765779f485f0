"""The slots domain on the timer: transit counter history in a real SQLite file, a small
scenario file, one tick publishing to a real mosquitto."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy.optimize import linprog

from optimiser.runner import Runner
from optimiser.slots.live import SlotsDomain, SlotsLiveSettings
from territory.inventory import load_inventory
from territory.readings import FieldValue, Reading
from territory.store.sqlite import SqliteStore
from tests.mqtt_listener import Listener
from tests.services import Mosquitto

SLOT_S = 900.0
PERIOD_S = 90.0  # each counter reports every 90 s
COUNTERS = ("nord-trn-001", "nord-trn-002")
HORIZON, WINDOW = 16, 2
CAPACITY = 400


def scenario_file(folder: Path, capacity: int) -> Path:
    document = {
        "name": "corridors",
        "utc_offset_h": 0,
        "zones": [
            {"id": "nord", "name": "Nord", "x": 0, "y": 2, "profile": "residential"},
            {"id": "centre", "name": "Centre", "x": 0, "y": 0, "profile": "commercial"},
        ],
        "transit_counters": [{"zone": "nord", "corridor": "ligne-a", "count": 2}],
        "corridors": [
            {
                "id": "ligne-a",
                "name": "Ligne A",
                "zones": ["nord", "centre"],
                "capacity_per_slot": capacity,
                "daily_trips": 20000,
            }
        ],
    }
    path = folder / "corridors.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def peak_hour(now: float) -> float:
    """A whole clock hour starting between one and two hours from now."""
    return math.ceil((now + 3600) / 3600) * 3600


def demand(slot_start: float, peak: float) -> int:
    """Commuters per slot, the same every day: 560 during the peak hour, 200 otherwise."""
    into_day = (slot_start - peak) % 86400
    return 560 if into_day < 3600 else 200


def history(now: float, peak: float, days: float = 8) -> list[Reading]:
    """Eight days of both counters: each sees half the slot's commuters, spread evenly."""
    rows = []
    first = now - days * 86400
    for k in range(int((now - first) // PERIOD_S)):
        ts = now - k * PERIOD_S
        slot = math.floor(ts / SLOT_S) * SLOT_S
        boardings = demand(slot, peak) * PERIOD_S / SLOT_S / len(COUNTERS)
        for n, device in enumerate(COUNTERS):
            ns = int(ts * 1e9)
            fields: dict[str, FieldValue] = {"boardings": int(boardings), "corridor": "ligne-a"}
            rows.append(Reading("transit_counter", "nord", device, ns, 10_000 - k + n, fields, ns))
    return rows


def least_total_shift(demand: list[int], capacity: int, window: int) -> float:
    """The optimum by HiGHS on one variable per (preferred slot, assigned slot)."""
    slots = len(demand)
    pairs = [(s, t) for s in range(slots) for t in range(slots) if abs(s - t) <= window]
    cost = [abs(s - t) for s, t in pairs]
    equal = np.zeros((slots, len(pairs)))
    upper = np.zeros((slots, len(pairs)))
    for j, (s, t) in enumerate(pairs):
        equal[s, j] = 1
        upper[t, j] = 1
    result = linprog(
        cost, A_ub=upper, b_ub=[capacity] * slots, A_eq=equal, b_eq=demand, method="highs"
    )
    assert result.status == 0
    return float(result.fun)


def run_ticks(url: str, store_url: str, domain: SlotsDomain, ticks: int) -> list[dict[str, Any]]:
    listener = Listener(url, "territory/plans/slots", "test-slots-listener")
    runner = Runner(url, store_url, 60.0, [domain])
    try:
        for _ in range(ticks):
            runner.tick()
            assert listener.next_plan(10)
    finally:
        runner.close()
        listener.close()
    return listener.plans


def test_a_forecast_peak_is_spread_within_capacity(mosquitto: Mosquitto, tmp_path: Path) -> None:
    now = time.time()
    peak = peak_hour(now)
    path = tmp_path / "live.db"
    store = SqliteStore(path)
    store.write(history(now, peak))
    store.close()
    domain = SlotsDomain(
        load_inventory(scenario_file(tmp_path, CAPACITY)), SlotsLiveSettings(HORIZON, WINDOW)
    )
    first, again = run_ticks(mosquitto.url, f"sqlite:///{path}", domain, 2)

    body = first["body"]
    corridor = body["corridors"]["ligne-a"]
    starts = corridor["slot_starts"]
    assert starts[0] > now and len(starts) == HORIZON
    # The history repeats every day: the forecast is the demand itself.
    truth = [demand(start, peak) for start in starts]
    assert corridor["demand"] == truth
    # The after-load, recomputed from the moves alone, holds the capacity.
    load = dict(zip(starts, truth, strict=True))
    shift = 0.0
    for move in body["moves_planned"]:
        assert move["corridor"] == "ligne-a" and move["count"] > 0
        assert abs(move["to_slot"] - move["from_slot"]) <= WINDOW * SLOT_S
        load[move["from_slot"]] -= move["count"]
        load[move["to_slot"]] += move["count"]
        shift += move["count"] * abs(move["to_slot"] - move["from_slot"]) / SLOT_S
    after = [load[start] for start in starts]
    assert max(after) <= CAPACITY and min(after) >= 0
    assert after == pytest.approx(corridor["load_after"])
    assert shift == pytest.approx(least_total_shift(truth, CAPACITY, WINDOW))
    kpis = body["kpis"]
    assert kpis["peak_load_before"]["ligne-a"] == 560
    assert kpis["peak_load_after"]["ligne-a"] == max(after)
    assert kpis["excess_before"] == 4 * (560 - CAPACITY) and kpis["excess_after"] == 0
    assert kpis["people_unassigned"] == 0
    assert first["status"] == "optimal" and body["fallback"] is False
    # The first tick publishes the whole plan; the next only what is new (nothing here).
    assert body["moves"] == body["moves_planned"]
    assert again["body"]["moves"] == [] and again["body"]["moves_planned"]
    store = SqliteStore(path)
    try:
        stored = store.plans("slots")
    finally:
        store.close()
    assert sorted(p.body["plan"] for p in stored) == sorted(
        p["body"]["plan"] for p in (first, again)
    )


def test_room_enough_means_no_moves(mosquitto: Mosquitto, tmp_path: Path) -> None:
    now = time.time()
    path = tmp_path / "live.db"
    store = SqliteStore(path)
    store.write(history(now, peak_hour(now), days=1))
    store.close()
    domain = SlotsDomain(load_inventory(scenario_file(tmp_path, 10_000)))
    (plan,) = run_ticks(mosquitto.url, f"sqlite:///{path}", domain, 1)
    assert plan["body"]["moves"] == [] and plan["body"]["moves_planned"] == []
    assert plan["body"]["kpis"]["excess_before"] == 0 == plan["body"]["kpis"]["people_shifted"]


def test_no_fresh_counter_means_nothing_to_plan(tmp_path: Path) -> None:
    now = time.time()
    store = SqliteStore(tmp_path / "old.db")
    try:
        store.write(history(now - 3 * 3600, peak_hour(now), days=0.5))
        assert (
            SlotsDomain(load_inventory(scenario_file(tmp_path, CAPACITY))).build(store, now) is None
        )
    finally:
        store.close()
