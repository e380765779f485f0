"""`territory secure compose`: what docker-compose.yml's secured shape reads and the
repository never holds, written into one folder (`var/compose` by default):

    DIR/inventory.yaml         the territory the platform obeys, copied from --inventory
    DIR/broker/                `territory secure init` for containers: paths under
                               /etc/territory/broker, a certificate also valid for `mosquitto`
    DIR/secrets/NAME           InfluxDB's and Grafana's passwords, one random secret a file
    DIR/secrets/console.yaml   the console's configuration, with one operator token's hash
    DIR/grafana/               Grafana's data
    .env                       TERRITORY_UID and TERRITORY_GID, for docker compose

Every secret is its owner's alone (0600, in a folder closed to others), and the
containers that read them run as that owner (the compose file's `user:` reads `.env`), so
no secret is ever made readable to anyone else on the host. A re-run keeps every password and the operator
token, brings the broker's accounts in line with the inventory, and prints the token only
when it makes a new one.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from territory import documents
from territory.inventory import Inventory
from territory.secure.init import SecureInitOptions, SecureInitResult, secure_init
from territory.secure.passwords import write_private
from territory.tokens import hash_token, new_token

# Where the containers find things; docker-compose.yml mounts and names the same paths.
BROKER_ROOT = PurePosixPath("/etc/territory/broker")
BROKER_SERVICE = "mosquitto"  # the broker's name on the compose network, dialled by services
PASSWORDS = (
    "influxdb_admin_password",
    "influxdb_territory_password",
    "influxdb_grafana_password",
    "grafana_admin_password",
)
CONSOLE_CONFIG = "console.yaml"
OPERATOR = "operator"
ENV_KEYS = ("TERRITORY_UID", "TERRITORY_GID")


class ComposeOptions(BaseModel):
    """What `territory secure compose` is asked for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: Path = Field(description="Folder the compose file's secrets and set-up go into.")
    inventory_file: Path = Field(description="The inventory (or scenario) the platform obeys.")
    host: str = Field(
        default="localhost",
        min_length=1,
        description="Name devices dial to reach the broker (in its certificate).",
    )
    console_template: Path = Field(
        default=Path("config/console.yaml"),
        description="The console configuration whose settings the generated one keeps.",
    )
    env_file: Path = Field(
        default=Path(".env"),
        description="The environment file docker compose reads beside docker-compose.yml.",
    )
    rotate: list[str] = Field(
        default_factory=list, description="Broker accounts whose credentials are issued anew."
    )


class ComposeResult(BaseModel):
    """What was written, as the command prints it (never a secret's value)."""

    model_config = ConfigDict(extra="forbid")

    inventory: str = Field(description="The inventory copy the containers read.")
    broker: SecureInitResult = Field(description="The broker set-up (host paths).")
    secrets: dict[str, str] = Field(description="Secret name -> its file.")
    env_file: str = Field(description="The environment file updated for docker compose.")
    operator_token: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="The console token made by this run, to be shown once; None when kept.",
    )


def compose_secrets(inventory: Inventory, options: ComposeOptions) -> ComposeResult:
    """Write (or bring up to date) everything the compose file reads from `options.out`."""
    out = options.out
    for folder in (out, out / "secrets", out / "grafana"):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
    inventory_copy = out / "inventory.yaml"
    write_private(inventory_copy, options.inventory_file.read_text())
    broker = secure_init(inventory, _broker_options(out / "broker", options))
    written = {name: str(_keep_or_make(out / "secrets" / name)) for name in PASSWORDS}
    console, token = _console_config(out / "secrets" / CONSOLE_CONFIG, options.console_template)
    written["console_config"] = str(console)
    update_env_file(options.env_file, {"TERRITORY_UID": os.getuid(), "TERRITORY_GID": os.getgid()})
    return ComposeResult(
        inventory=str(inventory_copy),
        broker=broker,
        secrets=written,
        env_file=str(options.env_file),
        operator_token=None if token is None else SecretStr(token),
    )


def _broker_options(folder: Path, options: ComposeOptions) -> SecureInitOptions:
    """The broker's container runs as the files' owner (TERRITORY_UID). As root, that is
    root, and mosquitto would drop to its own account, which cannot read them: keep it."""
    return SecureInitOptions(
        out=folder,
        host=options.host,
        rotate=options.rotate,
        alt_names=[BROKER_SERVICE],
        container_root=BROKER_ROOT,
        # The compose file's bridges profile: their accounts are ready when it is used.
        bridges=["gbfs", "lorawan"],
        broker_user="root" if os.geteuid() == 0 else None,
    )


def _keep_or_make(path: Path) -> Path:
    """A random password in `path`, unless one is there already (no newline: some readers
    take the file's bytes as they are)."""
    if not path.exists() or not path.read_text().strip():
        write_private(path, secrets.token_urlsafe(32))
    return path


def _console_config(path: Path, template: Path) -> tuple[Path, str | None]:
    """The console configuration: the template's settings and an operator token. A file
    already holding a token is kept as it is; a new token is returned to be shown once."""
    if path.exists() and documents.read_mapping(path, "console configuration").get("tokens"):
        return path, None
    document: dict[str, Any] = documents.read_mapping(template, "console configuration")
    token = new_token()
    tokens = list(document.get("tokens") or [])
    tokens.append({"name": OPERATOR, "role": "operator", "token_hash": hash_token(token)})
    document["tokens"] = tokens
    header = (
        f"# The console's configuration for docker compose, from {template}, written by\n"
        "# `territory secure compose`; edit it here, a re-run keeps it as it is. Tokens are\n"
        "# kept as hashes: `territory secure token` makes more.\n"
    )
    write_private(path, header + yaml.safe_dump(document, sort_keys=False))
    return path, token


def update_env_file(path: Path, values: dict[str, object]) -> None:
    """Set `values` in a KEY=VALUE file, keeping every other line as it was."""
    lines = path.read_text().splitlines() if path.exists() else []
    pending = {key: str(value) for key, value in values.items()}
    kept = []
    for line in lines:
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if match and match.group(1) in pending:
            key = match.group(1)
            kept.append(f"{key}={pending.pop(key)}")
        else:
            kept.append(line)
    kept += [f"{key}={value}" for key, value in pending.items()]
    path.write_text("\n".join(kept) + "\n")
