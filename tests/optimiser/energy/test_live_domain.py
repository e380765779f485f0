"""The live energy domain's commands, checked against what the devices will then do."""

from __future__ import annotations

import pytest

from optimiser.energy.domain import ARRIVING_PER_TICK, EnergyDomain
from optimiser.runner import Tick
from optimiser.state import LiveSettings
from territory.store.sqlite import SqliteStore
from tests.inventories import inventory_for
from tests.optimiser.energy.readings import NOW, reading

SETTINGS = LiveSettings(slot_minutes=15, horizon_slots=8)


def setpoints(store: SqliteStore) -> dict[str, float]:
    domain = EnergyDomain(inventory_for(store.latest()), SETTINGS)
    problem = domain.build(store, NOW)
    assert problem is not None
    outcome = domain.solve(problem, Tick(NOW, 60.0, 5.0, "t"))
    return {c.topic.split("/")[3]: float(c.payload["setpoint"]) for c in outcome.commands}


@pytest.mark.parametrize("stay_s", [120.0, 300.0, 600.0, 840.0])
def test_a_vehicle_leaving_within_the_first_slot_gets_its_energy_by_its_departure(
    sqlite_store: SqliteStore, stay_s: float
) -> None:
    sqlite_store.write(
        [
            reading("feeder", "F1", NOW - 5, activePower=20.0, powerLimit=200.0),
            reading("ev_charger", "c1", NOW - 5, status="charging", powerConsumption=0.0,
                    maxPower=22.0, feeder="F1", requestedEnergy=1.5, departure=NOW + stay_s),
        ]
    )  # fmt: skip
    setpoint = setpoints(sqlite_store)["c1"]
    # Plenty of room: the charger may draw what the vehicle needs, capped at its maximum.
    needed = min(22.0, 1.5 / (stay_s / 3600.0))
    assert setpoint == pytest.approx(needed, abs=2e-3)
    assert setpoint * stay_s / 3600.0 >= min(1.5, 22.0 * stay_s / 3600.0) - 1e-3


def test_vehicles_plugging_in_before_the_next_tick_keep_the_feeder_under_its_limit(
    sqlite_store: SqliteStore,
) -> None:
    limit, head = 100.0, 80.0
    sqlite_store.write(
        [
            reading("feeder", "F1", NOW - 5, activePower=head, powerLimit=limit),
            reading("ev_charger", "c1", NOW - 5, status="charging", powerConsumption=11.0,
                    maxPower=11.0, feeder="F1", requestedEnergy=30.0, departure=NOW + 7200),
            *[
                reading("ev_charger", f"idle{i}", NOW - 5, status="available",
                        powerConsumption=0.0, maxPower=22.0, feeder="F1")
                for i in range(4)
            ],
            # Room to spare on this one: its empty charger is left alone.
            reading("feeder", "F2", NOW - 5, activePower=10.0, powerLimit=300.0),
            reading("ev_charger", "far", NOW - 5, status="available", powerConsumption=0.0,
                    maxPower=22.0, feeder="F2"),
        ]
    )  # fmt: skip
    found = setpoints(sqlite_store)
    assert "far" not in found
    idle = sorted((found[f"idle{i}"] for i in range(4)), reverse=True)
    base = head - 11.0  # the head meter less the planned vehicle's draw
    # The worst the next minutes can bring: the plugged vehicle at its set-point and as
    # many new vehicles as the domain allows for, each at its own set-point.
    worst = base + found["c1"] + sum(idle[:ARRIVING_PER_TICK])
    assert worst <= limit
    assert found["c1"] > 0 and idle[0] > 0  # within the limit, not by stopping everything
