"""Quoting for InfluxQL, so that no value reaching a query can change what it asks.

InfluxQL has no bind parameters that every InfluxDB version serves, so each value is
quoted where the query is built: identifiers (measurements, tag keys) in double quotes,
string literals in single quotes, both with InfluxQL's escapes (`\\\\`, `\\"`, `\\'`, and
`\\n` for a line break, which may not appear raw inside quotes). A NUL cannot be
quoted (InfluxQL reads it as the end of the query) and raises ValueError. Numbers are
formatted from ints, never from text.
"""

from __future__ import annotations

import operator

_ESCAPES = {"\\": "\\\\", "\n": "\\n"}


def _escaped(text: str, quote: str) -> str:
    if "\x00" in text:
        raise ValueError("InfluxQL cannot carry a NUL character: it reads it as the end")
    table = str.maketrans({**_ESCAPES, quote: "\\" + quote})
    return quote + text.translate(table) + quote


def identifier(name: str) -> str:
    """A measurement, tag or field name as a quoted InfluxQL identifier."""
    return _escaped(name, '"')


def literal(value: str) -> str:
    """A string as a quoted InfluxQL string literal."""
    return _escaped(value, "'")


def integer(value: int) -> str:
    """An integer (a time in ns, a limit) as InfluxQL text; anything else is refused."""
    return str(operator.index(value))  # TypeError for a float or a string
