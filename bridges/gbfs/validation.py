"""Each GBFS file checked against its version's official JSON schema (vendored in schemas/).

A file that fails is refused whole, with the schema's own message: a station list is
never half applied.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import best_match

VERSIONS = ("1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "3.0")
READ_FEEDS = ("gbfs", "station_information", "station_status")

# jsonschema checks "date-time" only with an extra package; the standard library's parser
# is enough for RFC 3339 once an offset is required. "uri" is left unchecked.
_FORMATS = FormatChecker(formats=("date", "email"))


@_FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    return parsed.tzinfo is not None and "T" in value.upper()


class UnknownVersion(ValueError):
    """A GBFS version this bridge has no schema for."""


def schema(version: str, feed: str) -> dict[str, Any]:
    """The official schema of `feed` (file name without .json) in `version`."""
    if version not in VERSIONS:
        raise UnknownVersion(f"GBFS version {version!r} is not one of {', '.join(VERSIONS)}")
    path = files("bridges.gbfs") / "schemas" / f"v{version}" / f"{feed}.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@lru_cache(maxsize=64)
def validator(version: str, feed: str) -> Draft7Validator:
    return Draft7Validator(schema(version, feed), format_checker=_FORMATS)


def problem(version: str, feed: str, document: Any) -> str | None:
    """The schema's message for what is most wrong with `document`, or None if it is valid."""
    error = best_match(validator(version, feed).iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(top)"
    return f"{feed}.json v{version} at {where}: {error.message[:500]}"
