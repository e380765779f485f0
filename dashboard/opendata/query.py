"""The part of the NGSI-LD query language (`q`) that the read-only API answers.

Terms `attr==value`, `!=`, `>`, `>=`, `<`, `<=`, `attr==low..high` (a range), `attr~=regex`
and `attr` alone (the attribute exists), joined by `;` (and) and `|` (or, binding less
tightly). Strings are quoted (`status=="working"`); numbers and true/false are not.
Parentheses are refused with a clear message rather than read wrongly.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TERM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|>|<|~=)\s*(.+)$")
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryError(ValueError):
    """A `q` this API cannot read."""


@dataclass(frozen=True)
class Term:
    attribute: str
    test: Callable[[Any], bool]


Query = list[list[Term]]  # or of ands


def parse(text: str) -> Query:
    if "(" in text or ")" in text:
        raise QueryError("parentheses in q are not supported: write (a;b)|c as a;b|c")
    groups = []
    for alternative in text.split("|"):
        terms = [_term(part.strip()) for part in alternative.split(";")]
        groups.append(terms)
    return groups


def matches(query: Query, value_of: Callable[[str], Any]) -> bool:
    return any(all(term.test(value_of(term.attribute)) for term in group) for group in query)


def _term(text: str) -> Term:
    if _ATTRIBUTE.match(text):
        return Term(text, lambda value: value is not None)
    found = _TERM.match(text)
    if found is None:
        raise QueryError(f"cannot read the q term {text!r}")
    attribute, how, raw = found.groups()
    if how == "~=":
        pattern = _regex(_literal(raw))
        return Term(attribute, lambda value: isinstance(value, str) and bool(pattern.search(value)))
    if how in ("==", "!=") and ".." in raw and not raw.startswith('"'):
        low, _, high = raw.partition("..")
        bounds = (_literal(low), _literal(high))
        if how == "==":
            return Term(attribute, lambda value: _inside(value, bounds))
        return Term(attribute, lambda value: value is not None and not _inside(value, bounds))
    expected = _literal(raw)
    return Term(attribute, lambda value: _compare(value, expected, how))


def _literal(raw: str) -> Any:
    raw = raw.strip()
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # an unquoted word: taken as a string


def _regex(pattern: Any) -> re.Pattern[str]:
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise QueryError(f"not a regular expression: {pattern!r} ({exc})") from exc


def _inside(value: Any, bounds: tuple[Any, Any]) -> bool:
    return _compare(value, bounds[0], ">=") and _compare(value, bounds[1], "<=")


_ORDERS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _compare(value: Any, expected: Any, how: str) -> bool:
    if value is None:
        return False
    if how == "==":
        return bool(value == expected)
    if how == "!=":
        return bool(value != expected)
    numbers = (int, float)
    both_numbers = isinstance(value, numbers) and isinstance(expected, numbers)
    both_text = isinstance(value, str) and isinstance(expected, str)
    if isinstance(value, bool) or not (both_numbers or both_text):
        return False
    return bool(_ORDERS[how](value, expected))
