"""The console's own configuration: access tokens, request limits, alert rules.

Loaded from a YAML file (config/console.yaml by default). With no tokens configured the
console is open to anyone who can reach it, which is only safe on a loopback address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

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
        min_length=1, description="Who holds the token (shown in logs, never the token)."
    )
    role: Role = Field(description="viewer: read only; operator: may also trigger optimiser runs.")
    token: SecretStr = Field(description="The bearer token itself, at least 16 characters.")

    @field_validator("token")
    @classmethod
    def _long_enough(cls, token: SecretStr) -> SecretStr:
        if len(token.get_secret_value()) < 16:
            raise ValueError("a token needs at least 16 characters")
        return token


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_minute: int = Field(default=600, gt=0, description="Requests a token may make per minute.")
    burst: int = Field(default=60, gt=0, description="Requests a token may make at once.")


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
        default_factory=list, description="Bearer tokens; none configured means no access control."
    )
    poll_s: float = Field(
        default=0.5, gt=0, le=5, description="How often the store is polled for new readings."
    )
    min_push_interval_s: float = Field(
        default=0.3, ge=0, le=5, description="Least time between two updates pushed to one client."
    )
    max_body_bytes: int = Field(default=16_384, gt=0, description="Largest request body accepted.")
    rate_limit: RateLimit = Field(default_factory=RateLimit, description="Per-token request limit.")
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


def load_console_config(path: Path) -> ConsoleConfig:
    """Read and validate the YAML file; errors name the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConsoleConfigError(f"cannot read {path}: {exc}") from exc
    try:
        return ConsoleConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConsoleConfigError(f"{path}: {problems}") from exc
