"""The digital twin: a territory that lives in simulated time, publishes, and obeys.

Two kinds of events share one timeline: world steps (every `step_s`, the dynamics:
EV sessions, bike rides, vans, corridor slots, weather, and the ground-truth KPIs)
and device readings (each device on its own period with jitter: sample, encode,
maybe fault, send). Events are taken in time order with a fixed tie-break, and each
concern draws from its own seeded random stream, so a seed gives the same stream of
payloads for the same clock — and the same demand whether or not the territory is
being controlled.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from devices import payloads, profiles
from devices.build import build_world
from devices.clock import Clock
from devices.commands import ChargerSetpoint, Command, SlotShift, VanRoute
from devices.device import Device
from devices.energy import ChargerState, MeterState
from devices.faults import FaultInjector
from devices.flows import AirState, TrafficState, TransitState
from devices.kpis import Kpis
from devices.mobility import VanDevice
from devices.scenario import Scenario

WORLD_STEP = -1  # heap index of the world-step event: sorts before devices at equal times
WARMUP_STEP_S = 60.0
CLOUD_MEMORY_S = 1800.0


class Sink(Protocol):
    def publish(self, topic: str, payload: bytes) -> None: ...


class ChargePoints(Protocol):
    """Where chargers driven over OCPP report instead of publishing (`devices.ocpp_fleet`)."""

    def drives(self, device_id: str) -> bool: ...

    def report(self, charger: ChargerState, stamp: float) -> None: ...


class Twin:
    """One territory, seeded, advancing in simulated time."""

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock,
        sink: Sink,
        seed: int = 0,
        fault_share: float = 0.0,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.sink = sink
        self.seed = seed
        self.rng = {name: random.Random(f"{seed}:{name}") for name in _STREAMS}
        world = build_world(scenario, seed)
        self.grid, self.bikes, self.flows = world.grid, world.bikes, world.flows
        self.devices = world.devices
        self.chargers = {c.device_id: c for c in self.grid.chargers}
        self.faults = FaultInjector(fault_share, scenario.faults, self.rng["faults"])
        self.faults.register(self.devices)
        self.kpis = Kpis()
        self.published: Counter[str] = Counter()  # messages sent, by kind
        self.commands: Counter[str] = Counter()  # commands obeyed, by type
        self.rejected_commands: Counter[str] = Counter()
        # Set by an OCPP run: its chargers report to their charge points, not to `sink`.
        self.chargepoints: ChargePoints | None = None
        self._sessions: dict[str, float | None] = {}  # device id → departure of its vehicle
        self.cloud = 0.3
        self.zone_clouds = {z.id: 0.0 for z in scenario.zones}
        self.start = clock.sim_now()
        self.t = self.start
        self.hour = 0.0
        self.load_shapes: dict[str, float] = {}
        self._samplers = self._sampler_table()
        self._warm_up()
        self._schedule: list[tuple[float, int]] = []
        jitter = self.rng["jitter"]
        for index, device in enumerate(self.devices):
            self._schedule.append((self.start + jitter.random() * device.period, index))
        self._schedule.append((self.start + scenario.step_s, WORLD_STEP))
        heapq.heapify(self._schedule)

    # -- time ------------------------------------------------------------------------------

    def next_due(self) -> float:
        return self._schedule[0][0]

    def run_until(self, t_end: float, limit: int | None = None) -> int:
        """Take every event due at or before t_end (at most `limit`); returns how many."""
        taken = 0
        schedule = self._schedule
        while schedule and schedule[0][0] <= t_end and (limit is None or taken < limit):
            t, index = heapq.heappop(schedule)
            self.t = t
            if index == WORLD_STEP:
                self._world_step(t)
                heapq.heappush(schedule, (t + self.scenario.step_s, WORLD_STEP))
            else:
                device = self.devices[index]
                self._publish(device, t)
                spread = 1.0 + self.scenario.jitter * (2.0 * self.rng["jitter"].random() - 1.0)
                heapq.heappush(schedule, (t + device.period * spread, index))
            taken += 1
        return taken

    def _warm_up(self) -> None:
        """Run the dynamics (no readings) over the hours before the start, then reset scores."""
        warmup_s = 3600.0 * self.scenario.warmup_h
        steps = int(warmup_s // WARMUP_STEP_S)
        self._last_step = self.start - steps * WARMUP_STEP_S - WARMUP_STEP_S
        self.hour = self.local_hour(self.start)
        self.load_shapes = {name: shape(self.hour) for name, shape in profiles.LOAD_SHAPES.items()}
        for i in range(steps, 0, -1):
            self._world_step(self.start - i * WARMUP_STEP_S)
        self._initial_sessions()
        meter_rng = self.rng["noise"]
        for meter in self.grid.meters:
            meter.energy_kwh = meter.mean_kw * meter_rng.uniform(2000.0, 8000.0)
            meter.sample(self.start, self.load_shapes[meter.profile], meter_rng)
        self._world_step(self.start)
        self.kpis.reset()

    def _initial_sessions(self) -> None:
        index = 0
        for group in self.scenario.ev_chargers:
            chargers = self.grid.chargers[index : index + group.count]
            index += group.count
            if group.initial_occupancy is None:
                continue
            for charger in chargers:
                charger.plugged = False
                if self.rng["ev"].random() < group.initial_occupancy:
                    self.grid.plug_at_start(charger, self.start, self.rng["ev"])

    def local_hour(self, t: float) -> float:
        return ((t + 3600.0 * self.scenario.utc_offset_h) % 86400.0) / 3600.0

    def _world_step(self, t: float) -> None:
        dt = max(0.0, t - self._last_step)
        self._last_step = t
        self.hour = hour = self.local_hour(t)
        self.load_shapes = {name: shape(hour) for name, shape in profiles.LOAD_SHAPES.items()}
        sun = profiles.clear_sky(
            profiles.sun_elevation(t, self.scenario.latitude, self.scenario.longitude)
        )
        clouds = self._weather(dt)
        self.grid.step(t, dt, hour, sun, clouds, self.rng["ev"], self.kpis)
        if self.chargepoints is not None:
            self._report_plugging(t)
        self.bikes.step(t, dt, hour, self.rng["bikes"], self.kpis)
        self.flows.step(t, self.kpis)

    def _report_plugging(self, t: float) -> None:
        """A charge point says at once that a vehicle came or left (StartTransaction,
        StopTransaction), not at its next meter value."""
        points = self.chargepoints
        assert points is not None
        for charger in self.grid.chargers:
            session = charger.departure if charger.plugged else None
            if self._sessions.get(charger.device_id) != session:
                self._sessions[charger.device_id] = session
                if points.drives(charger.device_id):
                    points.report(charger, self.clock.stamp(t))

    def _weather(self, dt: float) -> dict[str, float]:
        """Cloud cover wandering slowly, a little different per zone; returns PV factors."""
        rng = self.rng["weather"]
        keep = math.exp(-dt / CLOUD_MEMORY_S) if dt > 0 else 1.0
        spread = math.sqrt(max(0.0, 1.0 - keep * keep))
        self.cloud = min(
            1.0, max(0.0, keep * self.cloud + (1 - keep) * 0.35 + 0.25 * spread * rng.gauss(0, 1))
        )
        factors = {}
        for zone, offset in self.zone_clouds.items():
            offset = keep * offset + 0.1 * spread * rng.gauss(0, 1)
            self.zone_clouds[zone] = offset
            factors[zone] = 1.0 - 0.75 * min(1.0, max(0.0, self.cloud + offset))
        return factors

    # -- readings --------------------------------------------------------------------------

    def _sampler_table(self) -> dict[str, Callable[[Device], None]]:
        noise = self.rng["noise"]
        flows = self.flows

        def meter(device: Device) -> None:
            assert isinstance(device, MeterState)
            device.sample(self.t, self.load_shapes[device.profile], noise)

        def traffic(device: Device) -> None:
            assert isinstance(device, TrafficState)
            flows.sample_traffic(device, self.hour, noise)

        def transit(device: Device) -> None:
            assert isinstance(device, TransitState)
            flows.sample_transit(device, noise)

        def air(device: Device) -> None:
            assert isinstance(device, AirState)
            flows.sample_air(device, self.hour, noise)

        def van(device: Device) -> None:
            assert isinstance(device, VanDevice)
            device.sample(self.t)

        return {
            "meter": meter,
            "traffic": traffic,
            "transit_counter": transit,
            "air": air,
            "van": van,
        }

    def _publish(self, device: Device, t: float) -> None:
        points = self.chargepoints
        if (
            points is not None
            and isinstance(device, ChargerState)
            and points.drives(device.device_id)
        ):
            # A charge point tells the bridge over OCPP, and the bridge publishes the reading.
            points.report(device, self.clock.stamp(t))
            self.published[device.kind] += 1
            return
        sampler = self._samplers.get(device.kind)
        if sampler is not None:
            sampler(device)
        stamp = self.clock.stamp(t)
        seq = device.next_seq()
        if isinstance(device, ChargerState):
            departure = self.clock.stamp(device.departure) if device.plugged else None
            payload = payloads.ev_charger(device, stamp, seq, departure)
        else:
            payload = payloads.ENCODERS[device.kind](device, stamp, seq)
        if self.faults.active:
            for topic, message in self.faults.emit(device, payload, t, device.period):
                self.sink.publish(topic, message)
                self.published[device.kind] += 1
        else:
            self.sink.publish(device.topic, payload)
            self.published[device.kind] += 1

    # -- commands --------------------------------------------------------------------------

    def apply(self, command: Command) -> bool:
        """Obey one command now; False (and counted) when it names nothing the twin has."""
        if isinstance(command, ChargerSetpoint):
            charger = self.chargers.get(command.device_id)
            if charger is None:
                return self._reject("unknown_charger")
            until = self.clock.to_sim(command.valid_until)
            self.grid.apply_setpoint(charger, command.setpoint, until, self.t)
        elif isinstance(command, VanRoute):
            if command.van_id not in self.bikes.vans:
                return self._reject("unknown_van")
            stops = [(self.bikes.index.get(stop.station, -1), stop.load) for stop in command.stops]
            if any(index < 0 for index, _ in stops):
                return self._reject("unknown_station")
            self.bikes.assign_route(command.van_id, stops, command.plan, self.t)
        elif isinstance(command, SlotShift):
            if command.corridor not in self.flows.corridors:
                return self._reject("unknown_corridor")
            from_t, to_t = self.clock.to_sim(command.from_slot), self.clock.to_sim(command.to_slot)
            self.flows.shift(command.corridor, from_t, to_t, command.count, self.rng["compliance"])
        self.commands[type(command).__name__] += 1
        return True

    def _reject(self, reason: str) -> bool:
        self.rejected_commands[reason] += 1
        return False


# Independent random streams: turning faults on, or controlling the chargers, leaves the
# other streams — and so the territory's demand — exactly as they were.
_STREAMS = ("ev", "bikes", "noise", "weather", "jitter", "faults", "compliance")
