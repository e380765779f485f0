"""Telemetry payloads as the devices send them: JSON per `territory.kinds`.

Built with f-strings rather than `json.dumps`: this runs once per message and the
formats are fixed. Every payload carries `id` so that a message on the wrong topic is
detectable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from devices.device import Device
from devices.energy import ChargerState, FeederState, MeterState, PvState
from devices.flows import AirState, TrafficState, TransitState
from devices.mobility import StationState, VanDevice


def _head(device: Device, ts: float, seq: int) -> str:
    return f'{{"ts":{ts:.3f},"seq":{seq},"id":"{device.device_id}"'


def meter(device: Any, ts: float, seq: int) -> bytes:
    d: MeterState = device
    return (
        f'{_head(d, ts, seq)},"activePower":{d.power_kw:.3f},'
        f'"activeEnergyImport":{d.energy_kwh:.3f},"feeder":"{d.feeder.device_id}"}}'
    ).encode()


def pv(device: Any, ts: float, seq: int) -> bytes:
    d: PvState = device
    return f'{_head(d, ts, seq)},"activePower":{d.power_kw:.3f},"feeder":"{d.feeder.device_id}"}}'.encode()


def feeder(device: Any, ts: float, seq: int) -> bytes:
    d: FeederState = device
    return (
        f'{_head(d, ts, seq)},"activePower":{d.net_kw:.3f},"powerLimit":{d.limit_kw:.3f}}}'.encode()
    )


def ev_charger(device: Any, ts: float, seq: int, departure_stamp: float | None = None) -> bytes:
    d: ChargerState = device
    session = ""
    if departure_stamp is not None:
        session = f',"requestedEnergy":{d.remaining_kwh:.3f},"departure":{departure_stamp:.0f}'
    return (
        f'{_head(d, ts, seq)},"status":"{d.status}","powerConsumption":{d.power_kw:.3f},'
        f'"maxPower":{d.max_kw:.3f},"feeder":"{d.feeder.device_id}"{session}}}'
    ).encode()


def bike_station(device: Any, ts: float, seq: int) -> bytes:
    d: StationState = device
    return (
        f'{_head(d, ts, seq)},"availableBikeNumber":{d.bikes},'
        f'"freeSlotNumber":{d.slots - d.bikes},"totalSlotNumber":{d.slots}}}'
    ).encode()


def traffic(device: Any, ts: float, seq: int) -> bytes:
    d: TrafficState = device
    return (
        f'{_head(d, ts, seq)},"intensity":{d.intensity},"occupancy":{d.occupancy},'
        f'"averageVehicleSpeed":{d.speed_kmh}}}'
    ).encode()


def transit_counter(device: Any, ts: float, seq: int) -> bytes:
    d: TransitState = device
    return f'{_head(d, ts, seq)},"boardings":{d.boardings},"corridor":"{d.corridor.spec.id}"}}'.encode()


def air(device: Any, ts: float, seq: int) -> bytes:
    d: AirState = device
    return f'{_head(d, ts, seq)},"pm25":{d.pm25},"pm10":{d.pm10},"no2":{d.no2}}}'.encode()


def van(device: Any, ts: float, seq: int) -> bytes:
    d: VanDevice = device
    return (
        f'{_head(d, ts, seq)},"status":"{d.status}","station":"{d.van.station}",'
        f'"load":{d.van.carried},"capacity":{d.van.spec.capacity}}}'
    ).encode()


ENCODERS: dict[str, Callable[[Any, float, int], bytes]] = {
    "meter": meter,
    "pv": pv,
    "feeder": feeder,
    "bike_station": bike_station,
    "traffic": traffic,
    "transit_counter": transit_counter,
    "air": air,
    "van": van,
}
