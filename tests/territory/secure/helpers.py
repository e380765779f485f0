"""Helpers for the broker tests: a secured mosquitto from `territory secure init`, its
inventory and the topics the access matrix uses."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from territory import topics
from territory.bus import BrokerAddress
from territory.inventory import load_inventory
from territory.secure import SecureInitOptions, SecureInitResult, secure_init
from tests.services import ConfiguredMosquitto, free_port

INVENTORY = """
name: secured
zones:
  - {id: north, name: North, x: 0, y: 0}
  - {id: south, name: South, x: 1, y: 0}
devices:
  - {id: fd-south, kind: feeder, zone: south, limit_kw: 100}
  - {id: dev-a, kind: meter, zone: north, feeder: fd-south}
  - {id: dev-b, kind: ev_charger, zone: south, feeder: fd-south, max_power_kw: 22}
vans:
  - {id: van-1, zone: north, capacity: 10}
"""

TEL_A = topics.telemetry("north", "meter", "dev-a")
TEL_B = topics.telemetry("south", "ev_charger", "dev-b")
CMD_A = topics.command("north", "meter", "dev-a")
CMD_B = topics.command("south", "ev_charger", "dev-b")
PLANS = topics.plan("energy")
DEAD = topics.deadletter("invalid_json")

FIELD_ACCOUNTS = {"dev-a", "dev-b", "simulator"}


def write_inventory(folder: Path) -> Path:
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY)
    return path


def init_options(out: Path, **overrides: object) -> SecureInitOptions:
    """Free ports; as root, a broker that keeps root (the tests' temporary folders are
    closed to the `mosquitto` user mosquitto would otherwise drop to)."""
    fields: dict[str, object] = {
        "out": out,
        "port": free_port(),
        "service_port": free_port(),
        "broker_user": "root" if os.geteuid() == 0 else None,
    }
    fields.update(overrides)
    return SecureInitOptions.model_validate(fields)


@dataclass
class SecuredBroker:
    """The set-up written by secure init and the mosquitto running it."""

    folder: Path
    options: SecureInitOptions
    result: SecureInitResult
    broker: ConfiguredMosquitto

    def account(self, name: str) -> Path:
        return Path(self.result.accounts[name])

    def address(self, name: str, *, port: int | None = None) -> BrokerAddress:
        """The address an account's owner would use: TLS on its listener, its file."""
        if port is None:
            port = self.result.port if name in FIELD_ACCOUNTS else self.result.service_port
        return BrokerAddress.from_url(f"mqtts://127.0.0.1:{port}", self.account(name))

    def anonymous(self, port: int, tls: bool = True) -> BrokerAddress:
        return BrokerAddress.from_url(
            f"{'mqtts' if tls else 'mqtt'}://127.0.0.1:{port}"
        ).model_copy(update={"ca_cert": Path(self.result.ca_cert)})


def start_secured(folder: Path, **overrides: object) -> SecuredBroker:
    inventory = load_inventory(write_inventory(folder))
    options = init_options(folder / "broker", **overrides)
    result = secure_init(inventory, options)
    ports = [result.port, result.service_port]
    if result.local_port is not None:
        ports.append(result.local_port)
    broker = ConfiguredMosquitto(Path(result.mosquitto_conf), ports, folder / "mosquitto.log")
    broker.start()
    return SecuredBroker(folder / "broker", options, result, broker)
