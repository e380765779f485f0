"""InfluxDB line protocol: each point as one line that InfluxDB reads back exactly as given.

What can be written faithfully, checked against a real influxd (1.x):

- String field values may hold anything: `"` and `\\` are escaped, a line break stays a
  raw line break (inside quotes InfluxDB reads it as part of the value, while `\\n`
  would be read back as a backslash and an `n`).
- Names (the measurement, tag keys, tag values and field keys) have commas, spaces and
  (except in the measurement) equals signs escaped. A name cannot hold a backslash, a
  line break or a NUL: InfluxDB 1.x has no escape for a backslash before a delimiter or
  at the end of a tag value (`zone=north\\` makes the whole line unreadable, and so does
  `zone=north\\\\`), 1.x and 2.x read a doubled backslash differently, and InfluxQL
  reads a NUL as the end of the query, so such a name could be written but never asked
  for. Nor can a name be empty, a key be `time`, a measurement start with `#` (which
  makes the line a comment), or a measurement or field key start with a tab (which
  InfluxDB skips as blank space). Such a point raises `LineProtocolError` instead of
  becoming a line InfluxDB refuses or, worse, reads as something else.
- Tags with an empty value are left out (InfluxDB has no empty tag value); numbers are
  written as floats, which must be finite.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from territory.readings import FieldValue

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STRING = str.maketrans({'"': r"\"", "\\": "\\\\"})
_UNWRITABLE_IN_NAMES = ("\\", "\n", "\r", "\x00")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class LineProtocolError(ValueError):
    """A point that line protocol cannot carry faithfully."""


def _check_name(name: str, what: str) -> None:
    if not name:
        raise LineProtocolError(f"empty {what}")
    for character in _UNWRITABLE_IN_NAMES:
        if character in name:
            raise LineProtocolError(
                f"{what} {name!r} holds {character!r}, which line protocol cannot carry"
            )


def _check_key(name: str, what: str) -> None:
    _check_name(name, what)
    if name == "time":
        raise LineProtocolError(f"{what} 'time' is reserved by InfluxDB")


def field_value(value: FieldValue) -> str:
    """Numbers are written as floats so a field never changes type between points."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = repr(float(value))
        if text[-1] in "nf":  # 'nan', 'inf', '-inf': every finite repr ends in a digit
            raise LineProtocolError(f"field value {text} is not finite")
        return text
    return f'"{value.translate(_STRING)}"'


# Series keys and field names repeat from one point to the next (one series per device):
# checking and escaping each once keeps line building off the ingest profile.
@lru_cache(maxsize=1 << 16)
def series_key(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """`measurement,tag=value,...` with tags sorted by key and empty values left out."""
    _check_name(measurement, "measurement")
    if measurement[0] in "#\t":
        raise LineProtocolError(f"measurement {measurement!r} starts with {measurement[0]!r}")
    parts = [measurement.translate(_MEASUREMENT)]
    for key, value in sorted(tags):
        _check_key(key, "tag key")
        if value:
            _check_name(value, f"tag {key!r}")
            parts.append(f"{key.translate(_KEY)}={value.translate(_KEY)}")
    return ",".join(parts)


@lru_cache(maxsize=4096)
def _field_key(name: str) -> str:
    _check_key(name, "field key")
    if name[0] == "\t":
        raise LineProtocolError(f"field key {name!r} starts with a tab")
    return name.translate(_KEY)


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue],
    timestamp: int,
    integer_fields: Mapping[str, int] | None = None,
) -> str:
    """One point; a key must not be both a tag and a field. Raises LineProtocolError."""
    field_parts = [f"{_field_key(key)}={field_value(value)}" for key, value in fields.items()]
    for key, value in (integer_fields or {}).items():
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise LineProtocolError(f"integer field {key!r} = {value} is beyond 64 bits")
        field_parts.append(f"{_field_key(key)}={int(value)}i")
    if not field_parts:
        raise LineProtocolError(f"a point of {measurement!r} needs at least one field")
    head = series_key(measurement, tuple(tags.items()))
    return f"{head} {','.join(field_parts)} {int(timestamp)}"
