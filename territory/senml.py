"""SenML (RFC 8428) packs, resolved into the JSON contract of `territory.kinds`.

A pack may hold records at several times: each distinct resolved time becomes
one JSON document. The record named `seq` carries the sequence number.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from typing import Any

from pydantic_core import from_json

# RFC 8428 §4.5.3: times below 2**28 are relative to now.
_RELATIVE_TIME_LIMIT = 2**28
_VALUE_KEYS = ("v", "vs", "vb")


class SenmlError(ValueError):
    """A pack that is not valid SenML."""


def senml_to_json(payload: bytes) -> list[bytes]:
    """One JSON document per distinct resolved time in the pack."""
    try:
        pack = from_json(payload, allow_inf_nan=True)
    except ValueError as exc:
        raise SenmlError(f"not JSON: {exc}") from exc
    if not isinstance(pack, list) or not pack:
        raise SenmlError("a SenML pack is a non-empty JSON array")

    documents: dict[float, dict[str, Any]] = defaultdict(dict)
    base_time = 0.0
    base_value = 0.0
    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            raise SenmlError(f"record {index} is not an object")
        base_time = _number(record.get("bt", base_time), index, "bt")
        base_value = _number(record.get("bv", base_value), index, "bv")
        name = record.get("n")
        if not isinstance(name, str) or not name:
            raise SenmlError(f"record {index} has no name 'n'")
        when = base_time + _number(record.get("t", 0.0), index, "t")
        if when < _RELATIVE_TIME_LIMIT:
            when += time.time()
        documents[when][name] = _value(record, base_value, index)

    return [
        json.dumps({"ts": when, **attributes}, allow_nan=True).encode()
        for when, attributes in documents.items()
    ]


def _number(value: Any, index: int, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SenmlError(f"record {index}: {key!r} must be a number")
    return float(value)


def _value(record: dict[str, Any], base_value: float, index: int) -> Any:
    present = [key for key in _VALUE_KEYS if key in record]
    if len(present) != 1:
        raise SenmlError(f"record {index} needs exactly one of v, vs, vb")
    key = present[0]
    value = record[key]
    if key == "v":
        number = base_value + _number(value, index, "v")
        # SenML has only floats; integral ones go back to ints so counts validate.
        return int(number) if math.isfinite(number) and number.is_integer() else number
    return value
