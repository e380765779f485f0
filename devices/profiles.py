"""Daily shapes: how loads, the sun, commuters and charging sessions follow the clock.

Every shape takes the local hour of day (0 ≤ hour < 24, fractional) and returns a
factor; load and traffic shapes have a mean of about 1 over the day, so a mean
given in a scenario stays the daily mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def _bump(hour: float, centre: float, width: float) -> float:
    """A Gaussian bump on the 24-hour circle."""
    distance = min(abs(hour - centre), 24 - abs(hour - centre))
    return math.exp(-0.5 * (distance / width) ** 2)


def _residential_load(hour: float) -> float:
    """Household load: low at night, a morning bump, a high evening peak."""
    return 0.45 + 0.45 * _bump(hour, 7.5, 1.2) + 1.25 * _bump(hour, 19.5, 2.0)


def _commercial_load(hour: float) -> float:
    """Offices and shops: a plateau over opening hours."""
    opening = 1.0 / (1.0 + math.exp(-(hour - 8.0) * 2.0)) - 1.0 / (
        1.0 + math.exp(-(hour - 19.0) * 2.0)
    )
    return 0.35 + 1.45 * opening


def _commute(hour: float) -> float:
    """Traffic and transit demand: morning and evening peaks over a daytime base."""
    night = (
        0.08
        + 0.35 / (1.0 + math.exp(-(hour - 6.0) * 1.5))
        - 0.35 / (1.0 + math.exp(-(hour - 22.0) * 1.5))
    )
    return night + 1.6 * _bump(hour, 8.0, 1.0) + 1.4 * _bump(hour, 17.75, 1.2)


def _outbound(hour: float) -> float:
    """Trips leaving home: the morning peak dominates."""
    return (
        0.1
        + 2.4 * _bump(hour, 8.0, 1.0)
        + 0.6 * _bump(hour, 13.0, 2.0)
        + 0.4 * _bump(hour, 20.0, 1.5)
    )


def _inbound(hour: float) -> float:
    """Trips heading home: the evening peak dominates."""
    return (
        0.1
        + 0.4 * _bump(hour, 8.0, 1.0)
        + 0.6 * _bump(hour, 13.0, 2.0)
        + 2.4 * _bump(hour, 18.0, 1.3)
    )


def departures_from(zone_profile: str, hour: float) -> float:
    """How strongly trips start in a zone of this profile at this hour."""
    if zone_profile == "residential":
        return outbound(hour)
    if zone_profile == "commercial":
        return inbound(hour)
    return 0.5 * (outbound(hour) + inbound(hour))


def attraction_of(zone_profile: str, hour: float) -> float:
    """How strongly trips end in a zone of this profile at this hour."""
    if zone_profile == "residential":
        return inbound(hour)
    if zone_profile == "commercial":
        return outbound(hour)
    return 0.5 * (outbound(hour) + inbound(hour))


def daily_mean(shape: Callable[[float], float], samples: int = 96) -> float:
    """Mean of a shape over the day."""
    return sum(shape(24.0 * i / samples) for i in range(samples)) / samples


def _normalised(shape: Callable[[float], float]) -> Callable[[float], float]:
    """The shape scaled to a daily mean of 1."""
    mean = daily_mean(shape)

    def scaled(hour: float) -> float:
        return shape(hour) / mean

    scaled.__doc__ = shape.__doc__
    return scaled


residential_load = _normalised(_residential_load)
commercial_load = _normalised(_commercial_load)
commute = _normalised(_commute)
outbound = _normalised(_outbound)
inbound = _normalised(_inbound)
LOAD_SHAPES = {"residential": residential_load, "commercial": commercial_load}


# EV arrivals per charger use: hour → relative arrival rate.
def ev_arrivals(use: str, hour: float) -> float:
    if use == "home":
        return 0.05 + _bump(hour, 18.5, 1.6)
    if use == "work":
        return 0.02 + _bump(hour, 8.5, 1.0)
    if use == "fleet":
        return 0.03 + _bump(hour, 1.0, 2.0)
    return 0.3 + _bump(hour, 11.0, 2.5) + _bump(hour, 17.0, 2.5)


def sun_elevation(epoch_s: float, latitude: float, longitude: float) -> float:
    """Solar elevation angle in degrees (the usual low-precision astronomical formula)."""
    days = epoch_s / 86400.0
    day_of_year = (days + 0.5) % 365.25
    declination = -23.44 * math.cos(2 * math.pi * (day_of_year + 10) / 365.25)
    solar_hour = (days % 1.0) * 24.0 + longitude / 15.0
    hour_angle = 15.0 * (solar_hour - 12.0)
    lat, dec, ha = (math.radians(v) for v in (latitude, declination, hour_angle))
    sine = math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * math.cos(ha)
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))


def clear_sky(elevation_deg: float) -> float:
    """Share of peak power a PV array gives under a clear sky at this sun elevation."""
    if elevation_deg <= 0:
        return 0.0
    return min(1.0, 1.15 * math.sin(math.radians(elevation_deg)) ** 1.2)
