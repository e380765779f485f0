"""Reading a YAML or JSON document into a pydantic model, with one way to say what is wrong.

Every command that reads a file names the file and the field at fault in the same words:
`PATH: field.path: what is wrong; other.field: ...`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class DocumentError(ValueError):
    """A document that cannot be used; the message names the file and the field at fault."""


# Which branch of an `int | list[int]` field failed: noise in a field's path.
_UNION_TAGS = {"int", "float", "list[int]", "list[float]"}


def describe(exc: ValidationError) -> str:
    """The errors of a validation as `field.path: message; ...`."""
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"] if part not in _UNION_TAGS)
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


def read_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """The top-level mapping of a YAML (or JSON, a subset of YAML) file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        language = "JSON" if path.suffix == ".json" else "YAML"
        raise DocumentError(f"{path}: not valid {language}: {exc}") from exc
    if not isinstance(document, dict):
        raise DocumentError(
            f"{path}: the {what} must be a mapping of fields, not {type(document).__name__}"
        )
    return document


def validate(model: type[ModelT], document: Any, path: str | Path) -> ModelT:
    """`model` from an already read document; DocumentError names the file and field."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise DocumentError(f"{path}: {describe(exc)}") from exc


def load(model: type[ModelT], path: str | Path, what: str) -> ModelT:
    """Read and validate a file in one step."""
    return validate(model, read_mapping(path, what), path)
