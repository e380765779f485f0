"""What a bridge refused, sent on to ingest so that it is kept as a dead letter.

Ingest stays the one path into the store: a bridge (GBFS, LoRaWAN) that cannot turn what
it read into a reading publishes it on `territory/rejects/{source}/{reason}` in this
envelope, and ingest stores it in the dead-letter table like any refused message, with
the bridge's reason and detail and the original (its topic or URL, its bytes).

A GBFS file can be megabytes: the envelope keeps its first `MAX_KEPT_BYTES`, with the
whole file's size and SHA-256, so that a dead letter stays a bounded row.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from territory import topics
from territory.readings import Decoded, Rejection, RejectReason

MAX_KEPT_BYTES = 32 * 1024


class BridgeReject(BaseModel):
    """One refused input, as a bridge sends it to ingest."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="The bridge that refused it: gbfs, lorawan, ...")
    reason: RejectReason = Field(description="Why it was refused.")
    detail: str = Field(max_length=2000, description="What exactly is wrong, for an operator.")
    origin: str = Field(description="Where it came from: a feed URL or the source broker's topic.")
    payload: str = Field(description="The input as received (its first MAX_KEPT_BYTES).")
    encoding: Literal["utf-8", "base64"] = Field(description="How `payload` is encoded.")
    size: int = Field(ge=0, description="Size of the whole input, bytes.")
    sha256: str = Field(description="SHA-256 of the whole input, hex.")


def reject_message(
    source: str, reason: RejectReason, detail: str, origin: str, payload: bytes
) -> tuple[str, bytes]:
    """(topic, body) of the message that carries this refusal to ingest."""
    kept = payload[:MAX_KEPT_BYTES]
    try:
        text, encoding = kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(kept).decode("ascii"), "base64"
    envelope = BridgeReject(
        source=source,
        reason=reason,
        detail=detail[:2000],
        origin=origin,
        payload=text,
        encoding=encoding,
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
    )
    return topics.bridge_reject(source, reason.value), envelope.model_dump_json().encode()


def decode_reject(topic: str, body: bytes, arrival_ns: int) -> Decoded:
    """The dead letter a bridge's refusal becomes; a malformed envelope is itself refused."""
    try:
        envelope = BridgeReject.model_validate_json(body)
    except ValidationError as exc:
        detail = f"not a bridge reject envelope: {exc.errors(include_url=False)[0]['msg']}"
        return Decoded(
            rejection=Rejection(RejectReason.INVALID_JSON, topic, body, arrival_ns, detail)
        )
    payload = (
        envelope.payload.encode()
        if envelope.encoding == "utf-8"
        else base64.b64decode(envelope.payload)
    )
    detail = f"{envelope.source}: {envelope.detail}"
    if envelope.size > len(payload):
        detail += f" (first {len(payload)} of {envelope.size} bytes kept, sha256 {envelope.sha256})"
    return Decoded(
        rejection=Rejection(envelope.reason, envelope.origin, payload, arrival_ns, detail)
    )
