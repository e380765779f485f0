"""The timer end to end: readings in a real SQLite file, a tick, set-points and the plan
arriving on a real mosquitto."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimiser.energy.domain import EnergyDomain
from optimiser.runner import Runner, parse_duration
from optimiser.state import LiveSettings
from territory.inventory import dump_inventory
from territory.readings import Reading
from territory.store.sqlite import SqliteStore
from tests.inventories import inventory_for
from tests.mqtt_listener import Listener
from tests.services import Mosquitto, free_port

SUBSCRIBED = ("territory/+/ev_charger/+/cmd", "territory/plans/#")
LIMIT_KW = {"F1": 60.0, "F2": 40.0}
CHARGERS = [  # id, zone, feeder, status, drawing now, max power, kWh wanted, hours to stay
    ("ev-a", "north", "F1", "charging", 11.0, 11.0, 30.0, 3),
    ("ev-b", "north", "F1", "charging", 22.0, 22.0, 40.0, 2.5),
    ("ev-c", "north", "F1", "occupied", 0.0, 22.0, 25.0, 5),
    ("ev-d", "south", "F2", "charging", 7.4, 7.4, 10.0, 4),
    ("ev-e", "south", "F2", "charging", 22.0, 22.0, 50.0, 6),
    ("ev-f", "south", "F2", "available", 0.0, 22.0, None, None),
]


def reading(kind: str, zone: str, device: str, now: float, **fields: Any) -> Reading:
    ns = int(now * 1e9)
    return Reading(kind, zone, device, ns, 1, fields, ns)


def live_readings(now: float, forged_limit_kw: float | None = None) -> list[Reading]:
    """Feeder heads that already see the EVs drawing now (F1: 30 kW of base load + 33 kW of
    EVs − 5 kW of PV; F2: 25 kW + 29.4 kW of EVs), so both are over their limits."""
    ev_now = {"F1": 33.0, "F2": 29.4}
    rows = [
        reading(
            "feeder",
            "north",
            "F1",
            now,
            activePower=30.0 + ev_now["F1"] - 5.0,
            powerLimit=forged_limit_kw or LIMIT_KW["F1"],
        ),
        reading("feeder", "south", "F2", now, activePower=25.0 + ev_now["F2"], powerLimit=40.0),
        reading("pv", "north", "pv-1", now, activePower=5.0, feeder="F1"),
    ]
    for device, zone, feeder, status, drawing, max_kw, wanted, hours in CHARGERS:
        session: dict[str, float] = {}
        if wanted is not None and hours is not None:
            session = {"requestedEnergy": wanted, "departure": now + hours * 3600}
        rows.append(
            reading(
                "ev_charger", zone, device, now, status=status, powerConsumption=drawing,
                maxPower=max_kw, feeder=feeder, **session,
            )
        )  # fmt: skip
    return rows


# The inventory the honest readings agree with: the limits the plan must keep to.
INVENTORY = inventory_for(live_readings(0.0))


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "live.db"
    store = SqliteStore(path)
    store.write(live_readings(time.time()))
    store.close()
    yield f"sqlite:///{path}"


@pytest.mark.parametrize("forged", [False, True], ids=["honest", "forged-limit"])
def test_one_tick_publishes_safe_setpoints_and_the_plan(
    mosquitto: Mosquitto, tmp_path: Path, forged: bool
) -> None:
    # A forged head-meter reading claims ten times F1's limit: the plan keeps to the
    # inventory's limit all the same, and names the claim.
    path = tmp_path / "live.db"
    store = SqliteStore(path)
    store.write(live_readings(time.time(), 10 * LIMIT_KW["F1"] if forged else None))
    store.close()
    store_url = f"sqlite:///{path}"
    listener = Listener(mosquitto.url, SUBSCRIBED, "test-listener")
    runner = Runner(
        mosquitto.url, store_url, 60.0, [EnergyDomain(INVENTORY, LiveSettings(horizon_slots=32))]
    )
    try:
        outcomes = runner.tick()
        assert listener.next_plan(10)
    finally:
        runner.close()
        listener.close()
    assert outcomes["energy"].status == "optimal"
    commands = {t.split("/")[3]: (t, p) for t, p in listener.messages if t.endswith("/cmd")}
    # ev-f has no vehicle: its set-point bounds one that plugs in before the next tick.
    assert set(commands) == {"ev-a", "ev-b", "ev-c", "ev-d", "ev-e", "ev-f"}
    plan = next(p for t, p in listener.messages if t == "territory/plans/energy")
    spec = {c[0]: c for c in CHARGERS}
    load = {"F1": 30.0 - 5.0, "F2": 25.0}
    for device, (topic, payload) in commands.items():
        _, zone, feeder, *_ = spec[device]
        assert topic == f"territory/{zone}/ev_charger/{device}/cmd"
        assert set(payload) == {"ts", "setpoint", "valid_until", "plan"}
        assert 0 <= payload["setpoint"] <= spec[device][5]
        assert payload["valid_until"] == pytest.approx(payload["ts"] + 120, abs=1)
        assert payload["plan"] == plan["body"]["plan"]
        load[feeder] += payload["setpoint"]
    for feeder, first_slot in load.items():
        assert first_slot <= LIMIT_KW[feeder] + 1e-6
        assert max(plan["body"]["decisions"]["feeder_load_kw"][feeder]) <= LIMIT_KW[feeder] + 1e-3
    # 35 and 15 kW of headroom over 8 hours are room enough for every vehicle.
    kpis = plan["body"]["kpis"]
    assert kpis["sessions_served"]["plan"] == 5
    assert kpis["slots_over_limit"]["plan"] == 0 < kpis["slots_over_limit"]["baseline"]
    store = SqliteStore(store_url.removeprefix("sqlite:///"))
    try:
        stored = store.plans("energy")
    finally:
        store.close()
    assert [p.body["plan"] for p in stored] == [plan["body"]["plan"]]
    claims = plan["body"]["limit_claims"]
    if forged:
        assert claims == [
            {
                "device_id": "F1",
                "kind": "feeder",
                "attribute": "powerLimit",
                "claimed": 600.0,
                "inventory": 60.0,
            }
        ]
    else:
        assert claims == []


def test_cli_once_speaks_mqtt_311(mosquitto: Mosquitto, store_url: str, tmp_path: Path) -> None:
    from territory.shell.cli import app

    listener = Listener(mosquitto.url, SUBSCRIBED, "test-listener")
    try:
        url = f"{mosquitto.url}?protocol=3.1.1"
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(dump_inventory(INVENTORY))
        result = CliRunner().invoke(
            app,
            [
                "optimise",
                "--mqtt",
                url,
                "--store",
                store_url,
                "--inventory",
                str(inventory),
                "--once",
            ],
        )
        assert result.exit_code == 0, result.output
        assert listener.next_plan(10)
    finally:
        listener.close()
    assert sum(t.endswith("/cmd") for t, _ in listener.messages) == 6  # 5 vehicles, 1 empty


def test_unreachable_broker_is_logged_and_the_plan_still_stored(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    runner = Runner(f"mqtt://127.0.0.1:{free_port()}", store_url, 60.0, [EnergyDomain(INVENTORY)])
    try:
        outcomes = runner.tick()
        outcomes_again = runner.tick()
    finally:
        runner.close()
    assert "energy" in outcomes and "energy" in outcomes_again
    assert "not published" in caplog.text
    store = SqliteStore(store_url.removeprefix("sqlite:///"))
    try:
        assert len(store.plans("energy")) == 2
    finally:
        store.close()


def test_unreachable_store_is_logged_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    runner = Runner(
        "mqtt://127.0.0.1:1", f"sqlite:///{blocked}/x.db", 60.0, [EnergyDomain(INVENTORY)]
    )
    try:
        assert runner.tick() == {}
        assert runner.tick() == {}
    finally:
        runner.close()
    assert caplog.text.count("unavailable, retrying next tick") == 2


def test_run_ticks_one_after_the_other(mosquitto: Mosquitto, store_url: str) -> None:
    runner = Runner(mosquitto.url, store_url, 0.3, [EnergyDomain(INVENTORY)], deadline_s=0.2)
    assert runner.run(threading.Event(), max_ticks=3) == 3
    store = SqliteStore(store_url.removeprefix("sqlite:///"))
    try:
        plans = store.plans("energy")
    finally:
        store.close()
    created = sorted(p.created for p in plans)
    assert len(created) == 3
    assert all(b > a for a, b in itertools.pairwise(created))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("30s", 30), ("5m", 300), ("15m", 900), ("90", 90), ("1h", 3600), ("0.5", 0.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5s", "0", "5 minutes"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
