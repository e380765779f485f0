"""Errors every optimisation domain raises for a problem it cannot take, and the reading
of a problem file that raises them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from territory import documents

ModelT = TypeVar("ModelT", bound=BaseModel)


class ProblemError(documents.DocumentError):
    """A malformed or inconsistent problem; the message names the field."""


@contextmanager
def as_problem_error() -> Iterator[None]:
    """A document error within becomes a ProblemError with the same message."""
    try:
        yield
    except documents.DocumentError as exc:
        if isinstance(exc, ProblemError):
            raise
        raise ProblemError(str(exc)) from exc


def load_problem_file(model: type[ModelT], path: Path, what: str = "problem") -> ModelT:
    """`model` read from the JSON (or YAML) file `path`; ProblemError names file and field."""
    with as_problem_error():
        return documents.load(model, path, what)
