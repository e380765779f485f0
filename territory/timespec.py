"""Times and durations as people type them on a command line."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)([smhdw]?)$")


def parse_span(text: str) -> float:
    """'90s', '15m', '6h', '2d', '1w', or plain seconds; '0' or 'raw' is 0."""
    text = text.strip().lower()
    if text == "raw":
        return 0.0
    found = _SPAN.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration: write 90s, 15m, 6h, 2d or 1w")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def parse_time(text: str, now_s: float) -> float:
    """'now', '-6h' (before now), epoch seconds, or ISO 8601 (UTC unless it says)."""
    text = text.strip()
    if text.lower() == "now":
        return now_s
    if text.startswith("-") and _SPAN.match(text[1:].lower()):
        return now_s - parse_span(text[1:])
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a time: write now, -6h, epoch seconds or 2026-11-01T08:00Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
