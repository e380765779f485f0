"""InfluxDB line protocol, escaped as the reference documents it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from territory.readings import FieldValue

_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})
_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_STRING = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": r"\n"})


def field_value(value: FieldValue) -> str:
    """Numbers are written as floats so a field never changes type between points."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    return f'"{value.translate(_STRING)}"'


# Series keys and field names repeat from one point to the next (one series per device):
# escaping each once keeps line building off the ingest profile.
@lru_cache(maxsize=1 << 16)
def series_key(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """`measurement,tag=value,...` with tags sorted by key and empty values left out."""
    tag_part = "".join(
        f",{key.translate(_KEY)}={value.translate(_KEY)}" for key, value in sorted(tags) if value
    )
    return f"{measurement.translate(_MEASUREMENT)}{tag_part}"


@lru_cache(maxsize=4096)
def _field_key(name: str) -> str:
    return name.translate(_KEY)


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue],
    timestamp: int,
    integer_fields: Mapping[str, int] | None = None,
) -> str:
    field_parts = [f"{_field_key(key)}={field_value(value)}" for key, value in fields.items()]
    field_parts += [f"{_field_key(key)}={value}i" for key, value in (integer_fields or {}).items()]
    head = series_key(measurement, tuple(tags.items()))
    return f"{head} {','.join(field_parts)} {timestamp}"
