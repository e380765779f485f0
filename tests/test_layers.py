"""The packages' layers, kept by a test: each import edge is one the architecture allows.

The core (`territory/`) imports none of the other packages, except its command-line
shell, which names them all. The services (`ingest/`, `optimiser/`, `dashboard/`,
`devices/`, `bridges/`) import the core and not each other, except through the plug-in
points listed in PLUG_INS (docs/architecture.md says what each is for).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.services import REPO

PACKAGES = ("territory", "ingest", "optimiser", "dashboard", "devices", "bridges")
# The command-line shell: one command that names every component.
SHELL = ("territory/shell/",)
# module (path) -> packages it may import beyond the core, and why.
PLUG_INS: dict[str, frozenset[str]] = {
    # Compare mode puts the real optimiser's live domains in the twin's closed loop.
    "devices/optimiser_policy.py": frozenset({"optimiser"}),
    # Compare mode over OCPP runs the real bridge in-process, on the twin's clock.
    "devices/ocpp_compare.py": frozenset({"bridges"}),
}


def imported_packages(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every project import in a module, lazy ones included."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.split(".")[0]


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield path.relative_to(REPO).as_posix(), path


def allowed(module: str, imported: str) -> bool:
    own = module.split("/")[0]
    if imported == own or imported not in PACKAGES or imported == "territory":
        return True
    if module.startswith(SHELL):
        return True
    return imported in PLUG_INS.get(module, frozenset())


def test_every_import_edge_is_an_allowed_one() -> None:
    wrong = [
        f"{module}:{line} imports {imported}"
        for module, path in modules()
        for line, imported in imported_packages(path)
        if not allowed(module, imported)
    ]
    assert wrong == []


def test_the_rules_are_not_vacuous() -> None:
    # The walk sees the shell's imports of every service, and each plug-in's import.
    edges = {
        (module, imported) for module, path in modules() for _, imported in imported_packages(path)
    }
    shell = {imported for module, imported in edges if module.startswith(SHELL)}
    assert {"ingest", "optimiser", "dashboard", "devices"} <= shell
    for module, packages in PLUG_INS.items():
        assert {(module, p) for p in packages} <= edges, module
    assert not allowed("optimiser/state.py", "devices")
    assert not allowed("territory/store/sqlite.py", "ingest")
    assert not allowed("ingest/worker.py", "dashboard")
