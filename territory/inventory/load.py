"""Loading an inventory file, or any document a registered reader turns into one.

A scenario file is accepted wherever an inventory is asked for: the simulator registers
a reader for it (`register_reader`) from the command-line shell, so that the core never
imports the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from territory import documents
from territory.documents import DocumentError
from territory.inventory.model import Inventory

# (does this document belong to you?, turn it into an inventory)
DocumentReader = tuple[
    Callable[[dict[str, Any]], bool], Callable[[dict[str, Any], Path], Inventory]
]
_READERS: list[DocumentReader] = []


class InventoryError(DocumentError):
    """An inventory (or scenario) file that cannot be used."""


def register_reader(
    recognises: Callable[[dict[str, Any]], bool],
    read: Callable[[dict[str, Any], Path], Inventory],
) -> None:
    """Accept another kind of document where an inventory is asked for."""
    if (recognises, read) not in _READERS:
        _READERS.append((recognises, read))


def load_inventory(path: str | Path) -> Inventory:
    """The inventory in PATH; InventoryError names the file and the field at fault."""
    path = Path(path)
    try:
        document = documents.read_mapping(path, "inventory")
        for recognises, read in _READERS:
            if recognises(document):
                return read(document, path)
        return documents.validate(Inventory, document, path)
    except DocumentError as exc:
        raise InventoryError(str(exc)) from exc


def dump_inventory(inventory: Inventory) -> str:
    """The inventory as YAML, leaving out what is at its default."""
    document = inventory.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
