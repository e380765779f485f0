"""Topic + payload bytes → validated readings, or one named rejection.

Everything a device can get wrong is turned into a `RejectReason`; nothing in
here raises on bad input.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from pydantic import ValidationError

from territory import topics
from territory.identifiers import IDENTIFIER_PATTERN, is_identifier
from territory.kinds import KINDS
from territory.readings import Decoded, Reading, Rejection, RejectReason
from territory.rejects import decode_reject
from territory.senml import SenmlError, senml_to_json

MAX_PAYLOAD_BYTES = 64 * 1024
PAST_WINDOW_S = 7 * 24 * 3600
FUTURE_WINDOW_S = 5 * 60

# pydantic error types → our reasons; anything unlisted is an invalid value.
_ERROR_REASONS: dict[str, RejectReason] = {
    "missing": RejectReason.MISSING_ATTRIBUTE,
    "missing_attribute": RejectReason.MISSING_ATTRIBUTE,
    "extra_forbidden": RejectReason.UNKNOWN_ATTRIBUTE,
    "finite_number": RejectReason.NON_FINITE,
    "json_invalid": RejectReason.INVALID_JSON,
    "json_type": RejectReason.INVALID_JSON,
    "model_type": RejectReason.WRONG_TYPE,
    "model_attributes_type": RejectReason.WRONG_TYPE,
    "ts_out_of_range": RejectReason.TS_OUT_OF_RANGE,
}
_WRONG_TYPE_SUFFIXES = ("_type", "_parsing", "wrong_type")


@dataclass(frozen=True, slots=True)
class Window:
    """Accepted device-time window around arrival, in seconds."""

    past_s: float = PAST_WINDOW_S
    future_s: float = FUTURE_WINDOW_S


def decode(
    topic: str,
    payload: bytes,
    arrival_ns: int | None = None,
    window: Window = Window(),
    known_devices: frozenset[str] | None = None,
) -> Decoded:
    """Decode one MQTT telemetry message."""
    arrival_ns = time.time_ns() if arrival_ns is None else arrival_ns

    def reject(reason: RejectReason, detail: str) -> Decoded:
        return Decoded(rejection=Rejection(reason, topic, payload, arrival_ns, detail))

    if len(payload) > MAX_PAYLOAD_BYTES:
        return reject(RejectReason.OVERSIZE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    if topic.startswith(topics.REJECTS_PREFIX):
        return decode_reject(topic, payload, arrival_ns)
    where, invalid = _device_topic(topic)
    if where is None:
        return reject(RejectReason.BAD_TOPIC, "expected territory/{zone}/{kind}/{device}/telemetry")
    if invalid:
        return reject(RejectReason.INVALID_TOPIC, invalid)
    model = KINDS.get(where.kind)
    if model is None:
        return reject(
            RejectReason.UNKNOWN_KIND, f"kind {where.kind!r} is not one of {sorted(KINDS)}"
        )
    if known_devices is not None and where.device_id not in known_devices:
        return reject(RejectReason.UNKNOWN_DEVICE, f"device {where.device_id!r} is not registered")

    documents = [payload]
    if payload[:1] != b"{" and payload.lstrip()[:1] == b"[":
        try:
            documents = senml_to_json(payload)
        except SenmlError as exc:
            return reject(RejectReason.INVALID_SENML, str(exc))

    readings = []
    for document in documents:
        try:
            telemetry = model.model_validate_json(document)
        except ValidationError as exc:
            reason, detail = _explain(exc)
            return reject(reason, detail)
        if telemetry.id is not None and telemetry.id != where.device_id:
            return reject(
                RejectReason.DEVICE_MISMATCH,
                f"payload id {telemetry.id!r} != topic device {where.device_id!r}",
            )
        ts_ns = telemetry.ts
        offset_s = (ts_ns - arrival_ns) / 1e9
        if offset_s < -window.past_s or offset_s > window.future_s:
            return reject(
                RejectReason.TS_OUT_OF_RANGE, f"device time is {offset_s:+.0f} s from now"
            )
        readings.append(
            Reading(
                kind=where.kind,
                zone=where.zone,
                device_id=where.device_id,
                ts_ns=ts_ns,
                seq=telemetry.seq,
                fields=telemetry.attributes(),
                arrival_ns=arrival_ns,
            )
        )
    return Decoded(readings=readings)


# A territory's devices each publish on one topic, over and over: each topic is split and
# its ids checked once.
@lru_cache(maxsize=1 << 17)
def _device_topic(topic: str) -> tuple[topics.DeviceTopic | None, str]:
    """The topic's parts (None when it is not a telemetry topic), and what is wrong with
    its zone and device ids ("" when both are valid)."""
    where = topics.parse_device_topic(topic)
    if where is None:
        return None, ""
    wrong = [
        f"{what} {value!r}"
        for what, value in (("zone", where.zone), ("device id", where.device_id))
        if not is_identifier(value)
    ]
    return where, f"{' and '.join(wrong)} must match {IDENTIFIER_PATTERN}" if wrong else ""


def _explain(exc: ValidationError) -> tuple[RejectReason, str]:
    """Name the first error: the reason it maps to, and where it was found."""
    error = exc.errors(include_url=False)[0]
    kind = error["type"]
    reason = _ERROR_REASONS.get(kind)
    given = error.get("input")
    if isinstance(given, float) and not math.isfinite(given):
        reason = RejectReason.NON_FINITE  # whatever the field's type, NaN is the real fault
    if reason is None:
        # A literal given a number is a wrong type; given an unknown word, a wrong value.
        literal_type = kind == "literal_error" and not isinstance(error["input"], str)
        wrong_type = kind.endswith(_WRONG_TYPE_SUFFIXES) or literal_type
        reason = RejectReason.WRONG_TYPE if wrong_type else RejectReason.INVALID_VALUE
    where = ".".join(str(part) for part in error["loc"]) or "payload"
    return reason, f"{where}: {error['msg']}"
