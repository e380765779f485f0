"""Which charge point each of the twin's chargers is: its OCPP version, its quirks, its
identity and its password.

Every twin charger is one charge point with one connector (connector or EVSE 1), named
after the charger. The mix of versions and quirks is drawn from the seed, so that the
inventory written by `territory inventory export --ocpp-passwords DIR --seed N` and the
twin run by `territory simulate --ocpp URL --seed N` describe the same chargers. Passwords
live one per file in a folder (mode 0600), written once by the export and read by the twin.
"""

from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devices.chargepoints import Behaviour
from territory.inventory.model import OcppQuirk

Version = Literal["1.6", "2.0.1"]
QUIRKS: tuple[OcppQuirk, ...] = ("watts_only", "amps_only", "stack_level_zero", "no_tx_default")
SHARE_201 = 0.5  # chargers speaking 2.0.1 (and telling the vehicle's needs, ISO 15118)
SHARE_QUIRKY = 0.4  # chargers with one quirk
CONNECTOR_ID = 1
PASSWORD_SUFFIX = ".pw"


@dataclass(frozen=True)
class PointModel:
    """How one twin charger behaves as a charge point."""

    charge_point_id: str
    version: Version
    quirk: OcppQuirk | None

    @property
    def quirks(self) -> list[OcppQuirk]:
        return [] if self.quirk is None else [self.quirk]

    def behaviour(self, phases: int = 3, voltage: float = 230.0) -> Behaviour:
        """The simulated charger's configuration and what it rejects."""
        return Behaviour(
            rate_units={"watts_only": "Power", "amps_only": "Current"}.get(
                self.quirk or "", "Current,Power"
            ),
            watts_only=self.quirk == "watts_only",
            amps_only=self.quirk == "amps_only",
            stack_level_zero=self.quirk == "stack_level_zero",
            rejects_tx_default=self.quirk == "no_tx_default",
            phases=phases,
            voltage=voltage,
        )


def point_models(device_ids: list[str], seed: int) -> dict[str, PointModel]:
    """The charge point of each charger, drawn from the seed (its own stream: the twin's
    other streams are untouched)."""
    rng = random.Random(f"{seed}:ocpp")
    models = {}
    for device_id in device_ids:
        version: Version = "2.0.1" if rng.random() < SHARE_201 else "1.6"
        quirk = rng.choice(QUIRKS) if rng.random() < SHARE_QUIRKY else None
        models[device_id] = PointModel(device_id, version, quirk)
    return models


def password_file(folder: Path, charge_point_id: str) -> Path:
    return folder / f"{charge_point_id}{PASSWORD_SUFFIX}"


def ensure_password(folder: Path, charge_point_id: str) -> Path:
    """The charge point's password file, made (random, mode 0600) if it is not there yet:
    an export run again keeps the passwords a running twin and bridge already use."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = password_file(folder, charge_point_id)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
    return path


def read_password(folder: Path, charge_point_id: str) -> str:
    """The password the export wrote; ValueError (naming the file, never its content) if
    it is missing or empty."""
    path = password_file(folder, charge_point_id)
    try:
        password = path.read_text().strip()
    except OSError as exc:
        raise ValueError(
            f"cannot read the password of {charge_point_id}: {path} ({exc.strerror})"
        ) from exc
    if not password:
        raise ValueError(f"the password file {path} is empty")
    return password
