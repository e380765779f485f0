"""The electrical side: meters, PV arrays, EV chargers and the feeders they hang on.

Truth lives here: each feeder keeps the sums of what its meters draw, its arrays
generate and its chargers draw, so its head meter, its time over the limit and the
solar it has to curtail follow from the same numbers the devices report.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from devices import profiles
from devices.device import Device
from devices.kpis import Kpis
from devices.scenario import ChargerGroup, FeederSpec, MeterGroup, PvGroup

METER_RESUM_STEPS = 240


@dataclass(slots=True, kw_only=True)
class FeederState(Device):
    """A feeder and its head meter."""

    limit_kw: float
    export_limit_kw: float
    meter_kw: float = 0.0
    pv_kw: float = 0.0
    ev_kw: float = 0.0

    @property
    def net_kw(self) -> float:
        return self.meter_kw - self.pv_kw + self.ev_kw


@dataclass(slots=True, kw_only=True)
class MeterState(Device):
    """A smart meter (or an aggregate of `households` sites) with a daily load shape."""

    feeder: FeederState
    profile: str  # a key of profiles.LOAD_SHAPES
    mean_kw: float
    noise: float = 0.0
    power_kw: float = 0.0
    energy_kwh: float = 0.0
    sampled_at: float = 0.0

    def sample(self, t: float, shape: float, rng: random.Random) -> None:
        """Take a new reading: integrate energy so far, then draw the new load
        (`shape`: the profile's factor at this hour)."""
        if self.sampled_at:
            self.energy_kwh += self.power_kw * max(0.0, t - self.sampled_at) / 3600.0
        self.sampled_at = t
        # AR(1) noise: loads wander around the profile instead of jumping about.
        self.noise = 0.85 * self.noise + 0.5 * rng.gauss(0.0, 1.0)
        power = max(0.02 * self.mean_kw, self.mean_kw * shape * (1.0 + 0.12 * self.noise))
        self.feeder.meter_kw += power - self.power_kw
        self.power_kw = power


@dataclass(slots=True, kw_only=True)
class PvState(Device):
    """A PV array's inverter: clear-sky share × clouds, less any curtailment."""

    feeder: FeederState
    peak_kw: float
    potential_kw: float = 0.0
    power_kw: float = 0.0


@dataclass(slots=True, kw_only=True)
class ChargerState(Device):
    """An EV charging point and the vehicle plugged into it, if any."""

    feeder: FeederState
    max_kw: float
    use: str
    arrival_rate: float  # sessions per second at a shape factor of 1
    mean_energy_kwh: float
    plugged: bool = False
    remaining_kwh: float = 0.0
    departure: float = 0.0  # simulated time
    power_kw: float = 0.0
    setpoint_kw: float | None = None
    valid_until: float = 0.0  # simulated time
    integrated_at: float = 0.0
    delivered_kwh: float = 0.0  # the point's energy register: every session's energy
    # The most the charger lets the vehicle draw at a simulated time, from the charging
    # profiles it holds (a charger driven over OCPP); None: no profile limits it.
    limiter: Callable[[float], float | None] | None = None

    @property
    def status(self) -> str:
        if not self.plugged:
            return "available"
        return "charging" if self.power_kw > 0 else "occupied"

    def integrate(self, t: float) -> None:
        """Deliver the energy drawn since the last call at the power that held."""
        if self.plugged and self.power_kw > 0 and t > self.integrated_at:
            drawn = min(self.remaining_kwh, self.power_kw * (t - self.integrated_at) / 3600.0)
            self.remaining_kwh -= drawn
            self.delivered_kwh += drawn
        self.integrated_at = t

    def decide(self, t: float, horizon_s: float) -> None:
        """Set the power for the coming step: the vehicle's need, the point's max, the set-point."""
        power = 0.0
        if self.plugged and self.remaining_kwh > 1e-6:
            cap = self.max_kw
            if self.setpoint_kw is not None and t < self.valid_until:
                cap = min(cap, self.setpoint_kw)
            if self.limiter is not None:
                limit = self.limiter(t)
                cap = cap if limit is None else min(cap, limit)
            power = max(0.0, min(cap, self.remaining_kwh * 3600.0 / horizon_s))
        self.feeder.ev_kw += power - self.power_kw
        self.power_kw = power


@dataclass(slots=True)
class EnergyGrid:
    """All feeders with their meters, arrays and chargers."""

    feeders: dict[str, FeederState] = field(default_factory=dict)
    meters: list[MeterState] = field(default_factory=list)
    pvs: list[PvState] = field(default_factory=list)
    chargers: list[ChargerState] = field(default_factory=list)
    horizon_s: float = 10.0
    steps: int = 0

    def step(
        self,
        t: float,
        dt: float,
        hour: float,
        sun: float,
        clouds: dict[str, float],
        rng: random.Random,
        kpis: Kpis,
    ) -> None:
        """Advance chargers and arrays by dt, then score every feeder."""
        self.horizon_s = dt
        arrivals = {
            use: profiles.ev_arrivals(use, hour) / mean for use, mean in _ARRIVAL_MEANS.items()
        }
        for charger in self.chargers:
            self._step_charger(charger, t, hour, arrivals[charger.use], rng, kpis)
        for pv in self.pvs:
            pv.potential_kw = pv.peak_kw * sun * clouds.get(pv.zone, 1.0)
        self._resum()
        shares = {fid: self._curtail(feeder, dt, kpis) for fid, feeder in self.feeders.items()}
        for pv in self.pvs:
            pv.power_kw = pv.potential_kw * (1.0 - shares[pv.feeder.device_id])
        for feeder in self.feeders.values():
            excess = feeder.net_kw - feeder.limit_kw
            if excess > 0:
                kpis.feeder_minutes_over_limit += dt / 60.0
                kpis.feeder_energy_over_limit_kwh += excess * dt / 3600.0

    def _resum(self) -> None:
        """Recompute each feeder's sums from its devices. Meters keep their feeder's sum up
        to date as they sample; it is recomputed now and then only to shed rounding drift."""
        self.steps += 1
        resum_meters = self.steps % METER_RESUM_STEPS == 0
        for feeder in self.feeders.values():
            feeder.pv_kw = feeder.ev_kw = 0.0
            if resum_meters:
                feeder.meter_kw = 0.0
        if resum_meters:
            for meter in self.meters:
                meter.feeder.meter_kw += meter.power_kw
        for pv in self.pvs:
            pv.feeder.pv_kw += pv.potential_kw
        for charger in self.chargers:
            charger.feeder.ev_kw += charger.power_kw

    def _curtail(self, feeder: FeederState, dt: float, kpis: Kpis) -> float:
        """Share of the feeder's PV potential curtailed to respect its export limit."""
        export = -feeder.net_kw
        if export <= feeder.export_limit_kw or feeder.pv_kw <= 0:
            return 0.0
        curtailed = min(feeder.pv_kw, export - feeder.export_limit_kw)
        kpis.solar_curtailed_kwh += curtailed * dt / 3600.0
        share = curtailed / feeder.pv_kw
        feeder.pv_kw -= curtailed
        return share

    def _step_charger(
        self,
        charger: ChargerState,
        t: float,
        hour: float,
        shape: float,
        rng: random.Random,
        kpis: Kpis,
    ) -> None:
        charger.integrate(t)
        if charger.plugged and t >= charger.departure:
            kpis.ev_energy_not_delivered_kwh += charger.remaining_kwh
            charger.plugged = False
            charger.remaining_kwh = 0.0
        # One draw per charger and step whatever its state, so that the arrival stream
        # of a seed does not depend on how the chargers were controlled.
        if rng.random() < charger.arrival_rate * shape * self.horizon_s and not charger.plugged:
            self._plug(charger, t, hour, rng)
        charger.decide(t, self.horizon_s)

    def _plug(self, charger: ChargerState, t: float, hour: float, rng: random.Random) -> None:
        charger.plugged = True
        mean = charger.mean_energy_kwh
        charger.remaining_kwh = min(3.0 * mean, max(0.1 * mean, rng.gammavariate(4.0, mean / 4.0)))
        charger.departure = t + 3600.0 * stay_hours(charger.use, hour, rng)
        charger.integrated_at = t

    def plug_at_start(self, charger: ChargerState, t: float, rng: random.Random) -> None:
        """A vehicle already plugged when the run starts (scenario's initial_occupancy)."""
        charger.plugged = True
        charger.remaining_kwh = charger.mean_energy_kwh
        charger.departure = t + 3600.0 * rng.uniform(6.0, 12.0)
        charger.integrated_at = t
        charger.decide(t, self.horizon_s)

    def refresh(self, charger: ChargerState, t: float) -> None:
        """Its limits changed (a profile arrived): the vehicle draws what they allow now."""
        charger.integrate(t)
        charger.decide(t, self.horizon_s)

    def apply_setpoint(
        self, charger: ChargerState, setpoint_kw: float, valid_until: float, t: float
    ) -> None:
        """Obey a set-point now: the next reading already shows the new power."""
        charger.integrate(t)
        charger.setpoint_kw = setpoint_kw
        charger.valid_until = valid_until
        charger.decide(t, self.horizon_s)


_ARRIVAL_MEANS = {
    use: profiles.daily_mean(functools.partial(profiles.ev_arrivals, use))
    for use in ("home", "work", "public", "fleet")
}


def stay_hours(use: str, hour: float, rng: random.Random) -> float:
    """How long a vehicle arriving now stays plugged."""
    if use in ("home", "fleet"):
        leave_at = rng.gauss(7.5, 0.75) if use == "home" else rng.gauss(6.75, 0.5)
        return max(1.0, (leave_at - hour) % 24.0)
    if use == "work":
        return min(11.0, max(2.0, rng.gauss(8.5, 1.5)))
    return min(8.0, max(0.25, rng.lognormvariate(math.log(1.5), 0.6)))


def build_grid(
    feeders: list[FeederSpec],
    meters: list[tuple[str, str, MeterGroup]],
    pvs: list[tuple[str, str, PvGroup]],
    chargers: list[tuple[str, str, ChargerGroup]],
    periods: dict[str, float],
) -> EnergyGrid:
    """The grid's state from the scenario's (zone, device id, group) triples."""
    grid = EnergyGrid()
    for spec in feeders:
        grid.feeders[spec.id] = FeederState(
            kind="feeder",
            zone=spec.zone,
            device_id=spec.id,
            period=periods["feeder"],
            limit_kw=spec.limit_kw,
            export_limit_kw=spec.export_limit,
        )
    for zone, device_id, group in meters:
        grid.meters.append(
            MeterState(
                kind="meter",
                zone=zone,
                device_id=device_id,
                period=periods["meter"],
                feeder=grid.feeders[group.feeder],
                profile=group.profile,
                mean_kw=group.mean_kw * group.households,
            )
        )
    for zone, device_id, pv_group in pvs:
        grid.pvs.append(
            PvState(
                kind="pv",
                zone=zone,
                device_id=device_id,
                period=periods["pv"],
                feeder=grid.feeders[pv_group.feeder],
                peak_kw=pv_group.peak_kw,
            )
        )
    for zone, device_id, charger_group in chargers:
        grid.chargers.append(
            ChargerState(
                kind="ev_charger",
                zone=zone,
                device_id=device_id,
                period=periods["ev_charger"],
                feeder=grid.feeders[charger_group.feeder],
                max_kw=charger_group.max_kw,
                use=charger_group.use,
                arrival_rate=charger_group.sessions_per_day / 86400.0,
                mean_energy_kwh=charger_group.mean_energy_kwh,
            )
        )
    return grid
