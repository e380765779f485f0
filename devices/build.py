"""Turn a scenario into the twin's state: the grid, the bike network, the flows, the devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devices.device import Device
from devices.energy import EnergyGrid, build_grid
from devices.flows import AirState, Flows, TrafficState, TransitState
from devices.mobility import BikeNetwork, StationState, VanDevice
from devices.scenario import DeviceSpec, Scenario


@dataclass
class World:
    """Everything the twin simulates, and the devices in publishing order."""

    grid: EnergyGrid
    bikes: BikeNetwork
    flows: Flows
    devices: list[Device]


def build_world(scenario: Scenario, seed: int = 0) -> World:
    periods = scenario.periods.model_dump()
    specs = scenario.devices()
    by_section: dict[str, list[tuple[str, str, Any]]] = {}
    for spec in specs:
        group = getattr(scenario, spec.section)[spec.group]
        by_section.setdefault(spec.section, []).append((spec.zone, spec.device_id, group))
    grid = build_grid(
        scenario.feeders,
        by_section.get("meters", []),
        by_section.get("pv", []),
        by_section.get("ev_chargers", []),
        periods,
    )
    stations = _stations(scenario, specs, periods["bike_station"])
    bikes = BikeNetwork(scenario, stations)
    flows = Flows(scenario.corridors, scenario.utc_offset_h, seed)
    sensors = _sensors(scenario, specs, flows, periods)
    devices: list[Device] = [
        *grid.feeders.values(),
        *grid.meters,
        *grid.pvs,
        *grid.chargers,
        *stations,
        *sensors,
        *_van_trackers(bikes, periods["van"]),
    ]
    return World(grid, bikes, flows, devices)


def _stations(scenario: Scenario, specs: list[DeviceSpec], period: float) -> list[StationState]:
    profiles = {z.id: z.profile for z in scenario.zones}
    stations = []
    for spec in specs:
        if spec.kind != "bike_station":
            continue
        group = scenario.bike_stations[spec.group]
        stations.append(
            StationState(
                kind=spec.kind,
                zone=spec.zone,
                device_id=spec.device_id,
                period=period,
                slots=group.slots,
                bikes=group.bikes,
                trips_per_day=group.trips_per_day,
                x=spec.x,
                y=spec.y,
                zone_profile=profiles[spec.zone],
            )
        )
    return stations


def _sensors(
    scenario: Scenario, specs: list[DeviceSpec], flows: Flows, periods: dict[str, float]
) -> list[Device]:
    sensors: list[Device] = []
    for spec in specs:
        zone, device_id = spec.zone, spec.device_id
        period = periods.get(spec.kind, 60.0)
        if spec.kind == "traffic":
            group = scenario.traffic[spec.group]
            sensors.append(
                TrafficState(
                    kind=spec.kind,
                    zone=zone,
                    device_id=device_id,
                    period=period,
                    peak_vph=group.peak_vph,
                    free_speed_kmh=group.free_speed_kmh,
                    corridor=flows.corridors[group.corridor] if group.corridor else None,
                )
            )
        elif spec.kind == "transit_counter":
            corridor = flows.corridors[scenario.transit_counters[spec.group].corridor]
            corridor.counters += 1
            sensors.append(
                TransitState(
                    kind=spec.kind, zone=zone, device_id=device_id, period=period, corridor=corridor
                )
            )
        elif spec.kind == "air":
            sensors.append(
                AirState(
                    kind=spec.kind,
                    zone=zone,
                    device_id=device_id,
                    period=period,
                    background_pm25=scenario.air[spec.group].background_pm25,
                )
            )
    return sensors


def _van_trackers(bikes: BikeNetwork, period: float) -> list[Device]:
    """One tracker per van, publishing on the van's own topic (its depot zone's)."""
    return [
        VanDevice(kind="van", zone=van.spec.zone, device_id=van.spec.id, period=period, van=van)
        for van in bikes.vans.values()
    ]
