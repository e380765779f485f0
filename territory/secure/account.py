"""An account file: one principal's broker credentials, as `--mqtt-auth FILE` reads them.

`territory secure init` writes one per device and service into `DIR/accounts/NAME.json`,
readable by its owner only. The password lives in this file and nowhere else: not on a
command line, not in a URL, not in a log line.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from territory import documents
from territory.documents import DocumentError
from territory.secure.passwords import write_private


class AccountError(DocumentError):
    """An account file that cannot be used (the message never carries the password)."""


class TopicRights(BaseModel):
    """What an account may do on the broker, as its ACL grants it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    publish: list[str] = Field(description="Topics (or filters) it may publish on.")
    subscribe: list[str] = Field(description="Topic filters it may receive messages from.")


class MqttAccount(BaseModel):
    """One principal's credentials for the broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, description="User name the broker knows it by.")
    password: SecretStr = Field(description="Its password (never logged nor shown).")
    ca_cert: str = Field(
        description="CA certificate that signs the broker's; relative to this file's folder "
        "when not absolute."
    )
    port: int = Field(
        ge=1, le=65535, description="The broker's TLS port for this account (field or services)."
    )
    topics: TopicRights = Field(description="What the broker lets it publish and receive.")

    def ca_path(self, folder: Path) -> Path:
        """The CA certificate's path, resolved against the account file's folder."""
        path = Path(self.ca_cert)
        return path if path.is_absolute() else folder / path


def read_account(path: Path) -> MqttAccount:
    """The account in PATH as written, its CA certificate unchecked (it may name a path
    that exists only inside a container)."""
    try:
        return documents.load(MqttAccount, path, "MQTT account")
    except DocumentError as exc:
        raise AccountError(str(exc)) from exc


def load_account(path: str | Path) -> tuple[MqttAccount, Path]:
    """The account in PATH and the CA certificate's resolved path."""
    path = Path(path)
    account = read_account(path)
    ca = account.ca_path(path.parent)
    if not ca.is_file():
        raise AccountError(f"{path}: ca_cert {ca} is not a file")
    return account, ca


def write_account(path: Path, account: MqttAccount) -> None:
    """Write the account file, mode 0600."""
    document = account.model_dump(mode="json")
    document["password"] = account.password.get_secret_value()
    write_private(path, json.dumps(document, indent=1) + "\n")
