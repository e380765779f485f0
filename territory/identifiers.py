"""Zone and device ids: the one character set they are written in.

Ids appear in MQTT topics, InfluxDB tags, InfluxQL literals, SQLite rows and file
names: ASCII letters, digits, `_`, `.` and `-`, 1 to 64 of them, need no escaping in
any of these. The inventory, the simulator's scenarios and ingest's decoder all check
ids against this one pattern.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

IDENTIFIER_MAX_LENGTH = 64
IDENTIFIER_PATTERN = rf"^[A-Za-z0-9_.-]{{1,{IDENTIFIER_MAX_LENGTH}}}$"

# fullmatch without the anchors: Python's `$` also matches before a final line break.
_FULL_MATCH = re.compile(IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$")).fullmatch

Identifier = Annotated[
    str,
    Field(pattern=IDENTIFIER_PATTERN, min_length=1, max_length=IDENTIFIER_MAX_LENGTH),
]
"""A zone, device, feeder or corridor id in a pydantic model."""


def is_identifier(text: str) -> bool:
    """Whether `text` is a valid id."""
    return _FULL_MATCH(text) is not None
