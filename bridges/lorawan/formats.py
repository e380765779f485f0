"""The uplinks of two network servers, read into one shape.

ChirpStack v4 publishes each uplink on `application/{application_id}/device/{dev_eui}/event/up`
as the JSON form of its `integration.UplinkEvent`: `deviceInfo` (with `devEui`,
`deviceName`, `deviceProfileName`), `fCnt` (left out when 0), `time`, and `object` when
the device profile has a codec. The Things Stack v3 publishes on
`v3/{application_id}@{tenant_id}/devices/{device_id}/up` an `ApplicationUp`:
`end_device_ids` (`device_id`, `dev_eui`), `received_at`, and `uplink_message` with
`f_cnt`, `received_at`, `version_ids` and `decoded_payload` when a payload formatter ran.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from territory.readings import RejectReason

Format = Literal["chirpstack", "tts"]
_FRACTION = re.compile(r"\.\d+")

TOPIC_FILTERS: dict[str, str] = {
    "chirpstack": "application/+/device/+/event/up",
    "tts": "v3/+/devices/+/up",
}


@dataclass(frozen=True)
class Uplink:
    """What the bridge needs of one uplink, whichever server sent it."""

    dev_eui: str | None
    ns_device: str  # the network server's own device name or id
    profile: str | None  # ChirpStack device profile; The Things Stack brand/model
    f_cnt: int
    time_s: float  # epoch seconds
    decoded: dict[str, Any]


class UplinkError(ValueError):
    """An uplink that cannot be read; `reason` is the dead letter's."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def parse(fmt: Format, payload: bytes) -> Uplink:
    """The uplink in `payload`, or UplinkError with the reason to dead-letter it."""
    try:
        document = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise UplinkError(RejectReason.INVALID_JSON, f"uplink is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UplinkError(RejectReason.NOT_DECODED, "uplink is not a JSON object")
    try:
        return _chirpstack(document) if fmt == "chirpstack" else _tts(document)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, UplinkError):
            raise
        raise UplinkError(
            RejectReason.NOT_DECODED, f"not a {_NAMES[fmt]} uplink: missing or bad {exc}"
        ) from exc


_NAMES = {"chirpstack": "ChirpStack v4", "tts": "The Things Stack v3"}


def _chirpstack(document: dict[str, Any]) -> Uplink:
    info = document["deviceInfo"]
    decoded = document.get("object")
    if not isinstance(decoded, dict):
        raise UplinkError(
            RejectReason.NOT_DECODED,
            "no decoded object: the device profile has no codec, or the codec failed",
        )
    return Uplink(
        dev_eui=_eui(info.get("devEui")),
        ns_device=str(info.get("deviceName") or info["devEui"]),
        profile=info.get("deviceProfileName"),
        f_cnt=int(document.get("fCnt", 0)),
        time_s=_time(document.get("time") or _first_rx_time(document)),
        decoded=decoded,
    )


def _first_rx_time(document: dict[str, Any]) -> str:
    for rx in document.get("rxInfo") or []:
        for key in ("gwTime", "nsTime"):
            if rx.get(key):
                return str(rx[key])
    raise KeyError("time")


def _tts(document: dict[str, Any]) -> Uplink:
    ids = document["end_device_ids"]
    message = document["uplink_message"]
    decoded = message.get("decoded_payload")
    if not isinstance(decoded, dict):
        raise UplinkError(
            RejectReason.NOT_DECODED,
            "no decoded_payload: no payload formatter, or it failed "
            f"({'; '.join(message.get('decoded_payload_warnings') or []) or 'no warning'})",
        )
    version = message.get("version_ids") or {}
    profile = f"{version['brand_id']}/{version['model_id']}" if version.get("model_id") else None
    return Uplink(
        dev_eui=_eui(ids.get("dev_eui")),
        ns_device=str(ids["device_id"]),
        profile=profile,
        f_cnt=int(message.get("f_cnt", 0)),
        time_s=_time(message.get("received_at") or document["received_at"]),
        decoded=decoded,
    )


def _eui(value: object) -> str | None:
    return str(value).lower() if value else None


def _time(value: object) -> float:
    if not isinstance(value, str):
        raise ValueError("time")
    # Both servers write nanoseconds; Python's parser takes up to microseconds.
    value = _FRACTION.sub(lambda found: found.group(0)[:7], value)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("time without an offset")
    return parsed.timestamp()
