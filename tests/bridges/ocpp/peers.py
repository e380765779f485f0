"""The simulated charge points the bridge tests talk to: the twin's own (`devices.chargepoints`)."""

from devices.chargepoints import (
    Behaviour,
    Connector,
    Profiles,
    Received,
    SimulatedStation,
    Station16,
    Station201,
    iso,
)

__all__ = [
    "Behaviour",
    "Connector",
    "Profiles",
    "Received",
    "SimulatedStation",
    "Station16",
    "Station201",
    "iso",
]
