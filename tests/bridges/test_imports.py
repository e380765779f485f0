"""Bridges depend on the core alone: never on the simulator, ingest, the optimiser or the
console."""

from __future__ import annotations

import ast
from pathlib import Path

BRIDGES = Path(__file__).resolve().parents[2] / "bridges"
FORBIDDEN = {"devices", "ingest", "optimiser", "dashboard"}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_bridges_import_only_the_core() -> None:
    modules = sorted(BRIDGES.rglob("*.py"))
    assert modules
    for module in modules:
        wrong = imported_packages(module) & FORBIDDEN
        assert not wrong, f"{module.relative_to(BRIDGES.parent)} imports {sorted(wrong)}"
