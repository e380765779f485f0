"""The one small interface both store backends implement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from territory.readings import Reading, Rejection


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or cannot write now (down, timed out, locked, out of
    space): nothing is wrong with what was written, and the caller retries it later."""


class StoreRejected(ValueError):
    """The store is up and refuses what it was given as invalid (InfluxDB's 400, an SQLite
    constraint): writing it again will fail again. The message is the store's own."""


class WriteResult(BaseModel):
    """What one batch write did."""

    stored: int = Field(description="Readings newly stored.")
    duplicates: int = Field(description="Readings already present under the same key.")


class StoreStats(BaseModel):
    """Totals for `territory query stats`."""

    readings: int = Field(description="Distinct readings stored.")
    devices: int = Field(description="Distinct devices with at least one reading.")
    rejected: dict[str, int] = Field(description="Dead letters by reason.")
    duplicates: int | None = Field(
        default=None,
        description="Redelivered readings collapsed onto one already stored; None where the "
        "backend cannot tell (InfluxDB overwrites silently).",
    )


class Plan(BaseModel):
    """One optimiser run as stored and published."""

    domain: str = Field(description="mobility, energy or slots.")
    created: float = Field(description="When the plan was made, epoch seconds.")
    status: str = Field(description="optimal, feasible, fallback or failed.")
    body: dict[str, Any] = Field(description="The plan itself: decisions and KPIs.")


# Audit entries are read by people and by log tools: one printable line each, whatever a
# client managed to put into them.
_UNPRINTABLE = {code: " " for code in range(32)} | {127: " "}


class AuditEntry(BaseModel):
    """Who did what, from where: one line of the audit log. Never holds a secret."""

    model_config = ConfigDict(extra="forbid")

    time: float = Field(description="When it happened, epoch seconds.")
    action: str = Field(
        pattern=r"^[a-z][a-z0-9_.-]*$",
        max_length=64,
        description="What happened: signin.succeeded, signin.failed, signin.blocked,"
        " access.refused, optimise.requested, optimise.finished, ...",
    )
    actor: str = Field(
        max_length=128, description="Who: a token's name, or empty when no token was recognised."
    )
    role: str = Field(
        pattern=r"^[a-z]*$", max_length=32, description="The actor's role, or empty when unknown."
    )
    client: str = Field(max_length=128, description="The client's network address.")
    detail: str = Field(
        default="", max_length=1000, description="What else there is to say; never a secret."
    )

    @field_validator("actor", "client", "detail")
    @classmethod
    def _one_printable_line(cls, value: str) -> str:
        return value.translate(_UNPRINTABLE)


class Store(Protocol):
    """A time-series store of readings, dead letters, plans and the audit log.

    Readings are keyed by (device, device timestamp, seq): writing the same key
    again never adds a second reading.
    """

    def write(self, readings: Sequence[Reading]) -> WriteResult: ...

    def write_rejects(self, rejects: Sequence[Rejection]) -> None: ...

    def prune_deadletters(self, before_ns: int, keep: int) -> int:
        """Remove the dead letters that arrived before `before_ns`, then all but the newest
        `keep`; return how many were removed."""
        ...

    def latest(self, kind: str | None = None, zone: str | None = None) -> list[Reading]:
        """The newest reading (by device time) of each device, optionally filtered."""
        ...

    def history(self, device_id: str, start_ns: int, end_ns: int) -> list[Reading]:
        """A device's readings with start_ns <= ts < end_ns, oldest first."""
        ...

    def stats(self) -> StoreStats: ...

    def write_plan(self, plan: Plan) -> None: ...

    def plans(self, domain: str | None = None, limit: int = 20) -> list[Plan]:
        """The most recent plans, newest first."""
        ...

    def append_audit(self, entry: AuditEntry) -> None:
        """Add one entry to the audit log."""
        ...

    def audit(self, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        """Audit entries at or after `since` (epoch seconds; all when None), newest first."""
        ...

    def close(self) -> None: ...
