"""The console's own configuration: access tokens, request limits, alert rules.

Loaded from a YAML file (config/console.yaml by default). Tokens are kept as their hashes
only (`territory secure token` makes a token and prints its hash); a console with no
token refuses to start rather than fall open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from territory import documents
from territory.tokens import is_token_hash

DEFAULT_CONSOLE_CONFIG = Path("config/console.yaml")

Role = Literal["viewer", "operator"]
DEFAULT_OPTIMISE_COMMAND = (
    "{python}",
    "-m",
    "territory",
    "optimise",
    "--once",
    "--domain",
    "{domain}",
    "--mqtt",
    "{mqtt}",
    "--store",
    "{store}",
    "--inventory",
    "{inventory}",
)


class ConsoleConfigError(ValueError):
    """The console configuration file is missing, unreadable or invalid."""


class TokenSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.@-]+$",
        description="Who holds the token (shown in logs and the audit log, never the token).",
    )
    role: Role = Field(description="viewer: read only; operator: may also trigger optimiser runs.")
    token_hash: str = Field(
        description="The token's hash, sha256:SALT:DIGEST, as `territory secure token` prints"
        " it; the token itself is never written in the configuration."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_plain_token(cls, data: Any) -> Any:
        if isinstance(data, dict) and "token" in data:
            raise ValueError(
                "tokens are stored hashed: make one with `territory secure token --role ROLE`"
                " and paste the line it prints (name, role, token_hash)"
            )
        return data

    @field_validator("token_hash")
    @classmethod
    def _is_a_hash(cls, token_hash: str) -> str:
        if not is_token_hash(token_hash):
            raise ValueError(
                "not a token hash (sha256:SALT:DIGEST): `territory secure token` prints one"
            )
        return token_hash


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_minute: int = Field(default=600, gt=0, description="Requests a token may make per minute.")
    burst: int = Field(default=60, gt=0, description="Requests a token may make at once.")


class SignInLimit(BaseModel):
    """Refused tokens from one client address before the address is turned away."""

    model_config = ConfigDict(extra="forbid")

    failures: int = Field(
        default=10,
        gt=0,
        description="Refused tokens from one address within window_s after which every request"
        " from it is answered 429 until the oldest of them leaves the window.",
    )
    window_s: float = Field(
        default=300.0, gt=0, description="Window over which refused tokens are counted, seconds."
    )


class AlertRules(BaseModel):
    """When an alert is raised; each clears by itself once its condition no longer holds."""

    model_config = ConfigDict(extra="forbid")

    stale_after_s: float = Field(
        default=180.0, gt=0, description="A device with no reading for this long is stale."
    )
    stale_after_s_by_kind: dict[str, float] = Field(
        default_factory=dict, description="Per-kind overrides of stale_after_s."
    )
    station_empty_at: int = Field(
        default=0, ge=0, description="A station with at most this many vehicles is empty."
    )
    station_full_at: int = Field(
        default=0, ge=0, description="A station with at most this many free docks is full."
    )
    feeder_near_ratio: float = Field(
        default=0.9, gt=0, description="A feeder above this share of its limit is near it."
    )
    corridor_over_ratio: float = Field(
        default=1.0, gt=0, description="A corridor above this share of its capacity is over it."
    )
    deadletter_window_s: float = Field(
        default=300.0, gt=0, description="Window over which new dead letters are counted."
    )
    deadletter_threshold: int = Field(
        default=1, gt=0, description="New dead letters of one reason in the window that raise."
    )
    ingest_silent_after_s: float = Field(
        default=30.0, gt=0, description="No reading stored for this long: ingest is degraded."
    )
    ingest_lag_s: float = Field(
        default=10.0,
        gt=0,
        description="Readings stored this long after their device time: degraded.",
    )


class ConsoleConfig(BaseModel):
    """Everything the operator console is told besides where the store is."""

    model_config = ConfigDict(extra="forbid")

    tokens: list[TokenSpec] = Field(
        default_factory=list,
        description="Bearer tokens (their hashes); the console refuses to start without one.",
    )
    poll_s: float = Field(
        default=0.5, gt=0, le=5, description="How often the store is polled for new readings."
    )
    min_push_interval_s: float = Field(
        default=0.3, ge=0, le=5, description="Least time between two updates pushed to one client."
    )
    max_body_bytes: int = Field(default=16_384, gt=0, description="Largest request body accepted.")
    rate_limit: RateLimit = Field(default_factory=RateLimit, description="Per-token request limit.")
    sign_in_limit: SignInLimit = Field(
        default_factory=SignInLimit, description="Refused tokens allowed per client address."
    )
    public_metrics: bool = Field(
        default=False, description="Serve /metrics without a token (a scraper on a closed network)."
    )
    public_docs: bool = Field(
        default=False, description="Serve /docs and /openapi.json without a token."
    )
    audit_sign_in_every_s: float = Field(
        default=900.0,
        ge=0,
        description="A token's accepted use from one address is written to the audit log at"
        " most once in this many seconds (every refused token always is).",
    )
    alerts: AlertRules = Field(default_factory=AlertRules, description="Alert rules.")
    alert_history: int = Field(
        default=1000, gt=0, description="Cleared alerts kept in memory, newest first."
    )
    optimise_timeout_s: float = Field(
        default=120.0, gt=0, description="Longest a triggered optimiser run may take."
    )
    optimise_command: list[str] = Field(
        default_factory=lambda: list(DEFAULT_OPTIMISE_COMMAND),
        min_length=1,
        description="Command of a triggered run; {python}, {domain}, {store}, {mqtt} and"
        " {inventory} are replaced by the interpreter, the domain, the store URL, the broker"
        " URL and the console's inventory file (absolute).",
    )
    history_max_points: int = Field(
        default=20_000, gt=0, description="Most points one history request may return."
    )

    @model_validator(mode="after")
    def _names_are_unique(self) -> ConsoleConfig:
        names = [spec.name for spec in self.tokens]
        doubled = sorted({name for name in names if names.count(name) > 1})
        if doubled:
            raise ValueError(f"token names must be unique: {', '.join(doubled)} given twice")
        return self


def load_console_config(path: Path) -> ConsoleConfig:
    """Read and validate the YAML file; errors name the file and the field."""
    try:
        return documents.load(ConsoleConfig, path, "console configuration")
    except documents.DocumentError as exc:
        raise ConsoleConfigError(str(exc)) from exc


def require_tokens(config: ConsoleConfig, path: Path | str) -> None:
    """Fail closed: a console without a token would let anyone in, so it does not start."""
    if not config.tokens:
        raise ConsoleConfigError(
            f"{path}: no access token configured, and the console does not start open."
            " Make one with `territory secure token --role operator` and add the line it"
            " prints under `tokens:` in this file"
        )
