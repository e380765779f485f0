"""Logging, configured once for every service: one text format, or JSON for collectors.

Every line names its component (`ingest`, `optimiser`, ...) and, where a record carries
them (`extra={"device": ..., "domain": ...}`), the device or the domain. Whatever a
message says, secrets are masked before any handler sees it: a URL's password, a bearer
token, `password=`/`token=` pairs, and every value registered with `mask_secret`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(component)s %(name)s %(levelname)s %(message)s"
MASK = "***"
# What a secret looks like inside free text: userinfo in a URL, a bearer or token header
# value, and key=value pairs whose key names a secret.
_PATTERNS = (
    re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]+(?=@)"),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(?<=token )[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(?<=password=)[^&\s\"']+|(?<=token=)[^&\s\"']+|(?<=secret=)[^&\s\"']+"),
)
_SECRETS: set[str] = set()
EXTRA_FIELDS = ("device", "domain", "zone", "kind")
HANDLER_NAME = "territory"


def mask_secret(value: str) -> None:
    """Never log this value, whichever message or argument carries it (a password read
    from a file, a token made at start-up)."""
    if len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class _Redacting(logging.Filter):
    """Masks secrets in the formatted message and tags the record with its component."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if not hasattr(record, "component"):
            record.component = self.component
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, component, logger, message and context."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "component": getattr(record, "component", "territory"),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = redact(str(value))
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    component: str, log_format: LogFormat = "text", level: int = logging.INFO
) -> None:
    """Send every logger's records to standard error in one format, secrets masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Redacting(component))
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    # Configured once: a second call replaces our handler, and leaves others' alone
    # (a test runner's capture, for one).
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # A line per HTTP request (the store's, a bridge's) drowns what matters.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
