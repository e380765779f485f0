"""InfluxDB line protocol, escaped as the reference documents it."""

from __future__ import annotations

from collections.abc import Mapping

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


def line(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, FieldValue],
    timestamp: int,
    integer_fields: Mapping[str, int] | None = None,
) -> str:
    tag_part = "".join(
        f",{key.translate(_KEY)}={value.translate(_KEY)}"
        for key, value in sorted(tags.items())
        if value
    )
    field_parts = [f"{key.translate(_KEY)}={field_value(value)}" for key, value in fields.items()]
    field_parts += [
        f"{key.translate(_KEY)}={value}i" for key, value in (integer_fields or {}).items()
    ]
    return f"{measurement.translate(_MEASUREMENT)}{tag_part} {','.join(field_parts)} {timestamp}"
