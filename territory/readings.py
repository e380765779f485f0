"""What ingest hands to the store: accepted readings and rejected messages.

Plain slotted dataclasses rather than pydantic models: they are built once per
message on the hot path, after the payload has already been validated.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import StrEnum

FieldValue = float | int | str | bool


class RejectReason(StrEnum):
    """Why a message was refused; each is counted and dead-lettered under its name."""

    OVERSIZE = "oversize"
    BAD_TOPIC = "bad_topic"
    INVALID_TOPIC = "invalid_topic"
    INVALID_JSON = "invalid_json"
    INVALID_SENML = "invalid_senml"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_DEVICE = "unknown_device"
    WRONG_TOPIC = "wrong_topic"
    MISSING_ATTRIBUTE = "missing_attribute"
    UNKNOWN_ATTRIBUTE = "unknown_attribute"
    WRONG_TYPE = "wrong_type"
    NON_FINITE = "non_finite"
    INVALID_VALUE = "invalid_value"
    TS_OUT_OF_RANGE = "ts_out_of_range"
    DEVICE_MISMATCH = "device_mismatch"
    STORE_REJECTED = "store_rejected"
    # Refused by a bridge before it became a telemetry message (territory.rejects).
    SCHEMA_INVALID = "schema_invalid"
    NOT_DECODED = "not_decoded"
    NOT_MAPPED = "not_mapped"
    # Refused by the OCPP bridge: a set-point it cannot apply, a profile a charger refused.
    INVALID_SETPOINT = "invalid_setpoint"
    PROFILE_REJECTED = "profile_rejected"


@dataclass(slots=True)
class Reading:
    """One validated reading of one device at one device time. Treat it as immutable: it
    is not frozen only because a frozen dataclass takes twice as long to build, once per
    message ingested."""

    kind: str
    zone: str
    device_id: str
    ts_ns: int
    seq: int
    fields: dict[str, FieldValue]
    arrival_ns: int

    @property
    def ts(self) -> float:
        return self.ts_ns / 1e9


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused message, kept whole so that nothing is lost (up to a bound on its payload:
    `cut` counts the bytes left out)."""

    reason: RejectReason
    topic: str
    payload: bytes
    arrival_ns: int
    detail: str = ""
    cut: int = 0

    def payload_text(self) -> tuple[str, str]:
        """The payload as text and its encoding: UTF-8 where it is, base64 otherwise."""
        try:
            return self.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return base64.b64encode(self.payload).decode("ascii"), "base64"


@dataclass(slots=True)
class Decoded:
    """The outcome of decoding one MQTT message: readings (SenML packs may hold several)."""

    readings: list[Reading] = field(default_factory=list)
    rejection: Rejection | None = None
