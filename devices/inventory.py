"""The inventory a scenario describes: its devices, limits and positions, for the core.

The twin simulates groups of alike devices; the platform knows devices one by one. This
module expands a scenario into the core's `Inventory`, and registers scenario files as
accepted wherever an inventory file is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devices.ocpp_points import CONNECTOR_ID, ensure_password, point_models
from devices.scenario import GROUP_SECTIONS, Scenario, load_scenario
from territory import inventory as inv

# A document with one of these sections is a scenario, not an inventory.
SCENARIO_SECTIONS = frozenset({*GROUP_SECTIONS, "feeders", "periods", "faults"})
# What the bridge assumes of a vehicle that does not say (OCPP 1.6): a typical stay by use.
DEFAULT_DWELL_H = {"home": 10.0, "work": 8.5, "public": 1.5, "fleet": 10.0}


def scenario_inventory(scenario: Scenario) -> inv.Inventory:
    """Every device of the scenario, one by one, with the limits its group declares."""
    periods = scenario.periods.model_dump()
    devices = [_feeder(scenario, feeder.id) for feeder in scenario.feeders]
    for spec in scenario.devices():
        group = getattr(scenario, spec.section)[spec.group]
        limits: dict[str, Any] = {}
        if spec.kind in ("meter", "pv", "ev_charger"):
            limits["feeder"] = group.feeder
        if spec.kind == "ev_charger":
            limits["max_power_kw"] = group.max_kw
        if spec.kind == "bike_station":
            limits["capacity"] = group.slots
        if spec.kind in ("traffic", "transit_counter") and group.corridor:
            limits["corridor"] = group.corridor
        devices.append(
            inv.Device(
                id=spec.device_id,
                kind=spec.kind,
                zone=spec.zone,
                x=spec.x,
                y=spec.y,
                period_s=periods[spec.kind],
                **limits,
            )
        )
    return inv.Inventory(
        name=scenario.name,
        utc_offset_h=scenario.utc_offset_h,
        zones=[inv.Zone(id=z.id, name=z.name, x=z.x, y=z.y) for z in scenario.zones],
        devices=devices,
        vans=list(scenario.vans),
        # The inventory keeps a corridor's capacity; its commuters are the twin's.
        corridors=[
            inv.Corridor.model_validate(c.model_dump(include=set(inv.Corridor.model_fields)))
            for c in scenario.corridors
        ],
    )


def ocpp_inventory(scenario: Scenario, passwords: Path, seed: int = 0) -> inv.Inventory:
    """The scenario's inventory with every charger an OCPP connector (security profile 1,
    its password file in `passwords`, its quirks as the twin of that seed has them)."""
    inventory = scenario_inventory(scenario)
    chargers = {spec.device_id: spec for spec in scenario.devices() if spec.kind == "ev_charger"}
    models = point_models(list(chargers), seed)
    devices = []
    for device in inventory.devices:
        spec = chargers.get(device.id)
        if spec is not None:
            group = getattr(scenario, spec.section)[spec.group]
            model = models[device.id]
            connector = inv.OcppConnector(
                charge_point_id=model.charge_point_id,
                connector_id=CONNECTOR_ID,
                password_file=str(ensure_password(passwords, model.charge_point_id).resolve()),
                security_profile=1,
                quirks=model.quirks,
                default_energy_kwh=group.mean_energy_kwh,
                default_dwell_h=DEFAULT_DWELL_H[group.use],
            )
            device = device.model_copy(update={"ocpp": connector})
        devices.append(device)
    return inventory.model_copy(update={"devices": devices})


def _feeder(scenario: Scenario, feeder_id: str) -> inv.Device:
    feeder = next(f for f in scenario.feeders if f.id == feeder_id)
    zone = scenario.zone(feeder.zone)
    return inv.Device(
        id=feeder.id,
        kind="feeder",
        zone=feeder.zone,
        x=zone.x,
        y=zone.y,
        period_s=scenario.periods.feeder,
        limit_kw=feeder.limit_kw,
        export_limit_kw=feeder.export_limit_kw,
    )


def is_scenario(document: dict[str, Any]) -> bool:
    return bool(SCENARIO_SECTIONS & document.keys())


def read_scenario_document(document: dict[str, Any], path: Path) -> inv.Inventory:
    del document  # the scenario loader reads and checks the file itself
    return scenario_inventory(load_scenario(path))


def accept_scenarios() -> None:
    """Let every `--inventory FILE` be a scenario file too."""
    inv.register_reader(is_scenario, read_scenario_document)
