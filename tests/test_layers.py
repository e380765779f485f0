"""The packages' layers, kept by a test: each import edge is one the architecture allows.

The core (`territory/`) imports none of the other packages, except its command-line
shell, which names every service but the simulator: nothing outside `devices/` imports
`devices/` (it adds its commands to the shell through an entry point). The services (`ingest/`, `optimiser/`, `dashboard/`,
`devices/`, `bridges/`) import the core and not each other, except through the plug-in
points listed in PLUG_INS (docs/architecture.md says what each is for).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.services import REPO

PACKAGES = ("territory", "ingest", "optimiser", "dashboard", "devices", "bridges")
# The command-line shell: one command that names every component but the simulator.
SHELL = ("territory/shell/",)
SIMULATOR = "devices"
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
        return imported != SIMULATOR
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
    assert {"ingest", "optimiser", "dashboard", "bridges"} <= shell
    assert not allowed("territory/shell/cli.py", "devices")
    for module, packages in PLUG_INS.items():
        assert {(module, p) for p in packages} <= edges, module
    assert not allowed("optimiser/state.py", "devices")
    assert not allowed("territory/store/sqlite.py", "ingest")
    assert not allowed("ingest/worker.py", "dashboard")


def test_the_simulator_plugs_its_commands_into_the_shell() -> None:
    """Through the installed package's entry point: `simulate` and `inventory export`
    are commands of `territory`, and a scenario file reads as an inventory."""
    from importlib.metadata import entry_points

    from typer.main import get_command

    from territory.shell.cli import PLUG_IN_GROUP, app

    (plug_in,) = [e for e in entry_points(group=PLUG_IN_GROUP) if e.name == "simulator"]
    assert plug_in.value == "devices.plugin:register"
    command = get_command(app)
    assert "simulate" in command.commands  # type: ignore[attr-defined]
    inventory = command.commands["inventory"]  # type: ignore[attr-defined]
    assert "export" in inventory.commands
    # In a process of its own (this one's conftest accepts scenarios itself): the shell,
    # once loaded, reads a scenario file as an inventory.
    reads = (
        "import territory.shell.cli; from territory.inventory.load import load_inventory; "
        "print(len(load_inventory('config/territories/demo.yaml').by_id))"
    )
    found = subprocess.run(
        [sys.executable, "-c", reads], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stderr
    assert int(found.stdout) > 100
