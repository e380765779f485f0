"""Who may connect and what each connector is: the inventory's OCPP chargers and their feeders.

Built once at start from the inventory. Passwords are read from their files here and
kept only in memory; a charge point without a password is refused at load, since no
default secret ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from territory.inventory import Device, Inventory, InventoryError
from territory.inventory.model import OcppQuirk


@dataclass(frozen=True)
class Connector:
    """One inventory `ev_charger` reached as a connector (1.6) or EVSE (2.0.1)."""

    device: Device
    charge_point_id: str
    connector_id: int

    @property
    def device_id(self) -> str:
        return self.device.id

    @property
    def feeder(self) -> str:
        assert self.device.feeder is not None  # an ev_charger always has one
        return self.device.feeder

    @property
    def max_power_kw(self) -> float:
        assert self.device.max_power_kw is not None  # an ev_charger always has one
        return self.device.max_power_kw


@dataclass(frozen=True, repr=False)
class ChargePointEntry:
    """A charge point allowed to connect, with its credentials and quirks."""

    id: str
    password: str
    security_profile: int
    quirks: frozenset[OcppQuirk]
    connectors: dict[int, Connector] = field(default_factory=dict)

    def __repr__(self) -> str:  # never the password, whatever prints us
        return f"ChargePointEntry(id={self.id!r}, connectors={sorted(self.connectors)})"


@dataclass(frozen=True)
class FeederEntry:
    """A feeder with OCPP connectors on it, and its limit from the inventory."""

    id: str
    zone: str
    limit_kw: float
    connectors: list[Connector] = field(default_factory=list)


@dataclass(frozen=True)
class Registry:
    """The OCPP side of the inventory, indexed the ways the bridge looks it up."""

    charge_points: dict[str, ChargePointEntry]
    feeders: dict[str, FeederEntry]
    by_device: dict[str, Connector]

    @classmethod
    def from_inventory(cls, inventory: Inventory, base_dir: Path) -> Registry:
        """Password files are read relative to `base_dir` (the inventory's folder)."""
        points: dict[str, ChargePointEntry] = {}
        by_device: dict[str, Connector] = {}
        for device in inventory.of_kind("ev_charger"):
            if device.ocpp is None:
                continue
            ocpp = device.ocpp
            connector = Connector(device, ocpp.charge_point_id, ocpp.connector_id)
            entry = points.get(ocpp.charge_point_id)
            if entry is None:
                entry = ChargePointEntry(
                    id=ocpp.charge_point_id,
                    password=_read_password(device, base_dir),
                    security_profile=ocpp.security_profile,
                    quirks=frozenset(ocpp.quirks),
                )
                points[entry.id] = entry
            entry.connectors[connector.connector_id] = connector
            by_device[device.id] = connector
        feeders = {
            d.id: FeederEntry(d.id, d.zone, float(d.limit_kw or 0.0))
            for d in inventory.of_kind("feeder")
        }
        for connector in by_device.values():
            feeders[connector.feeder].connectors.append(connector)
        watched = {fid: f for fid, f in feeders.items() if f.connectors}
        return cls(charge_points=points, feeders=watched, by_device=by_device)


def _read_password(device: Device, base_dir: Path) -> str:
    assert device.ocpp is not None
    if device.ocpp.password_file is None:
        raise InventoryError(
            f"{device.id}: charge point {device.ocpp.charge_point_id} has no password_file; "
            "every charge point logs in with its own password (security profile 1 or 2)"
        )
    path = Path(device.ocpp.password_file)
    path = path if path.is_absolute() else base_dir / path
    try:
        password = path.read_text().strip()
    except OSError as exc:
        raise InventoryError(
            f"{device.id}: cannot read the password file {path} ({exc.strerror})"
        ) from exc
    if not password:
        raise InventoryError(f"{device.id}: the password file {path} is empty")
    return password
