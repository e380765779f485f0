"""`territory secure init`: a complete mosquitto 2 set-up for a territory, in one folder.

    DIR/mosquitto.conf                 listeners, limits, persistence
    DIR/tls/ca.crt, ca.key             the private CA (keep ca.key offline once done)
    DIR/tls/server.crt, server.key     the broker's certificate and key
    DIR/{field,services}.passwd        hashed passwords, one file per listener
    DIR/{field,services}.acl           what each account may publish and receive
    DIR/accounts/NAME.json             each account's credentials (mode 0600)
    DIR/data/                          the broker's persistence

With `container_root`, the broker and the components run in containers that mount the
folder (or parts of it) there: mosquitto.conf and the account files name every path as
the containers see it, and the CA certificate stays where it is on this host.

A re-run brings the folder in line with the inventory and keeps every credential it
already issued: account files and password lines are left as they are, new devices get
new accounts, removed ones lose theirs. `rotate` names the accounts to issue anew.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from territory.inventory import Inventory
from territory.secure import passwords
from territory.secure.account import AccountError, MqttAccount, read_account, write_account
from territory.secure.broker_conf import BrokerLayout, BrokerLimits, acl_text, mosquitto_conf
from territory.secure.pki import ensure_tls
from territory.secure.principals import LISTENERS, Bridge, Principal, principals


class SecureInitOptions(BaseModel):
    """What `territory secure init` is asked for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    out: Path = Field(description="Folder the set-up is written into.")
    port: int = Field(default=8883, ge=1, le=65535, description="Field listener's TLS port.")
    service_port: int | None = Field(
        default=None, ge=1, le=65535, description="Services listener's TLS port (default port+1)."
    )
    host: str = Field(
        default="localhost",
        min_length=1,
        description="Name clients dial; the server certificate is valid for it, localhost "
        "and 127.0.0.1.",
    )
    alt_names: list[str] = Field(
        default_factory=list,
        description="Further names the server certificate is valid for (a container "
        "network's service name, say).",
    )
    local_port: int | None = Field(
        default=None, ge=1, le=65535, description="Plaintext listener on 127.0.0.1, if any."
    )
    container_root: PurePosixPath | None = Field(
        default=None,
        description="Absolute path where containers mount the folder: mosquitto.conf and the "
        "account files name their paths under it. None: the folder's own path on this host.",
    )
    simulator: bool = Field(default=True, description="Issue the twin's gateway account.")
    bridges: list[Bridge] = Field(
        default_factory=list,
        description="Protocol bridges to issue accounts for (ocpp is added whenever the "
        "inventory has OCPP connectors).",
    )
    broker_user: str | None = Field(
        default=None,
        min_length=1,
        description="Account the broker runs as when started as root (mosquitto's `user`): "
        "the files it reads are handed to it. None: `mosquitto` when run as root, else the "
        "broker runs as whoever ran init.",
    )
    rotate: list[str] = Field(
        default_factory=list, description="Accounts whose credentials are issued anew."
    )
    limits: BrokerLimits = Field(default_factory=BrokerLimits, description="Broker quotas.")

    @field_validator("container_root")
    @classmethod
    def _absolute(cls, root: PurePosixPath | None) -> PurePosixPath | None:
        if root is not None and not root.is_absolute():
            raise ValueError(f"the container root must be an absolute path, not {root}")
        return root


class SecureInitResult(BaseModel):
    """What was written, as `territory secure init` prints it."""

    model_config = ConfigDict(extra="forbid")

    mosquitto_conf: str = Field(description="mosquitto.conf to start the broker with.")
    ca_cert: str = Field(description="CA certificate clients trust.")
    port: int = Field(description="Field listener's TLS port (devices, the twin).")
    service_port: int = Field(description="Services listener's TLS port.")
    local_port: int | None = Field(description="Loopback plaintext port, if any.")
    accounts: dict[str, str] = Field(description="Account name -> its account file.")


def secure_init(inventory: Inventory, options: SecureInitOptions) -> SecureInitResult:
    """Write (or bring up to date) the set-up in `options.out`."""
    accounts = principals(inventory, options.simulator, tuple(options.bridges))
    names = {principal.name for principal in accounts}
    unknown = sorted(set(options.rotate) - names)
    if unknown:
        raise ValueError(f"--rotate: no account named {', '.join(unknown)}")
    layout = _layout(options)
    for folder in (layout.folder, layout.folder / "accounts", layout.data_folder):
        folder.mkdir(parents=True, exist_ok=True)
    layout.data_folder.chmod(0o700)
    written: dict[str, str] = {}
    for listener in LISTENERS:
        members = [p for p in accounts if p.listener == listener]
        hashes = passwords.read_password_file(layout.password_file(listener))
        kept: dict[str, str] = {}
        for principal in members:
            path = _account_path(layout, principal.name)
            rotate = principal.name in options.rotate
            kept[principal.name] = _issue(principal, path, hashes, layout, options, rotate)
            written[principal.name] = str(path)
        passwords.write_password_file(layout.password_file(listener), kept)
        layout.acl_file(listener).write_text(acl_text(listener, members))
    _forget_removed(layout, names)
    broker_user = options.broker_user or ("mosquitto" if os.geteuid() == 0 else None)
    layout.conf_file.write_text(mosquitto_conf(layout, options.limits, broker_user))
    if broker_user is not None and os.geteuid() == 0:
        _hand_to_broker(layout, broker_user)
    return SecureInitResult(
        mosquitto_conf=str(layout.conf_file),
        ca_cert=str(layout.ca_cert),
        port=layout.port,
        service_port=layout.service_port,
        local_port=layout.local_port,
        accounts=written,
    )


def _layout(options: SecureInitOptions) -> BrokerLayout:
    folder = options.out.resolve()
    service_port = options.service_port or options.port + 1
    ports = [options.port, service_port] + [p for p in [options.local_port] if p is not None]
    if len(set(ports)) != len(ports):
        raise ValueError(f"the listeners need distinct ports, not {ports}")
    tls = ensure_tls(folder / "tls", [options.host, *options.alt_names, "localhost", "127.0.0.1"])
    return BrokerLayout(
        folder=folder,
        seen_as=options.container_root,
        port=options.port,
        service_port=service_port,
        local_port=options.local_port,
        ca_cert=tls.ca_cert,
        server_cert=tls.server_cert,
        server_key=tls.server_key,
    )


def _account_path(layout: BrokerLayout, name: str) -> Path:
    return layout.folder / "accounts" / f"{name}.json"


def _issue(
    principal: Principal,
    path: Path,
    hashes: dict[str, str],
    layout: BrokerLayout,
    options: SecureInitOptions,
    rotate: bool,
) -> str:
    """Write the account file if anything in it changes; the password hash to keep."""
    port = layout.port if principal.listener == "field" else layout.service_port
    previous = None if rotate else _previous(path, hashes.get(principal.name))
    password = previous.password.get_secret_value() if previous else passwords.new_password()
    account = MqttAccount(
        username=principal.name,
        password=SecretStr(password),
        ca_cert=str(layout.seen(layout.ca_cert)),
        port=port,
        topics=principal.rights,
    )
    if previous != account:
        write_account(path, account)
    if previous is not None:
        return hashes[principal.name]
    return passwords.hash_password(password)


def _previous(path: Path, hashed: str | None) -> MqttAccount | None:
    """The account already issued, when its file and its password line still agree."""
    if hashed is None or not path.exists():
        return None
    try:
        account = read_account(path)
    except AccountError:
        return None
    if not passwords.verify(account.password.get_secret_value(), hashed):
        return None
    return account


def _forget_removed(layout: BrokerLayout, names: set[str]) -> None:
    """Account files of accounts that no longer exist go: stale credentials help nobody."""
    for path in (layout.folder / "accounts").glob("*.json"):
        if path.stem not in names:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _hand_to_broker(layout: BrokerLayout, user: str) -> None:
    """Make what the broker reads its own: mosquitto started as root drops to `user`
    before it opens a single file, and the keys and password files are 0600."""
    try:
        pwd.getpwnam(user)
    except KeyError as exc:
        raise ValueError(f"--broker-user: no user named {user!r} on this machine") from exc
    paths = [layout.conf_file, layout.server_cert, layout.server_key, layout.ca_cert]
    for listener in LISTENERS:
        paths += [layout.password_file(listener), layout.acl_file(listener)]
    for path in [*paths, layout.data_folder, *layout.data_folder.iterdir()]:
        shutil.chown(path, user)
