"""What the CLI and the settings know, to hold the compose file's commands and
environment against: a flag or a `TERRITORY_*` variable nobody reads fails a test."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import typer.main
from pydantic import BaseModel

from territory.settings import CONFIG_ENV, Settings
from territory.store.credentials import influx_credentials
from tests.compose import command_of, environment_of

PREFIX = "TERRITORY_"
_SECRET_PATH = re.compile(r"/run/secrets/([A-Za-z0-9_.-]+)")


class CommandError(ValueError):
    """A command line the CLI refuses: an unknown command or option, a bad value."""


def parse_command(args: list[str]) -> dict[str, Any]:
    """Parse `territory ARGS` as the CLI would, down to its subcommand, without running
    it; the subcommand's parameters. Typer bundles its own copy of click, so commands
    and groups are told apart by what they do, not by their class."""
    from territory.shell.cli import app

    command: Any = typer.main.get_command(app)
    name, parent, rest = "territory", None, list(args)
    while True:
        try:
            context = command.make_context(name, rest, parent=parent)
        except Exception as exc:  # click's usage errors, whichever copy of click
            raise CommandError(f"territory {' '.join(args)}: {exc}") from exc
        # Click 8 keeps the subcommand's name apart, in `_protected_args` (its public
        # `protected_args` is deprecated); Click 9 leaves it at the head of `args`.
        remaining = [*getattr(context, "_protected_args", []), *context.args]
        is_group = hasattr(command, "get_command")
        if not remaining and (not is_group or command.invoke_without_command):
            params: dict[str, Any] = context.params
            return params
        if not is_group:
            raise CommandError(f"territory {' '.join(args)}: unexpected {remaining}")
        if not remaining:
            raise CommandError(f"territory {' '.join(args)}: no subcommand")
        sub = command.get_command(context, remaining[0])
        if sub is None:
            raise CommandError(f"territory {' '.join(args)}: no command {remaining[0]!r}")
        command, parent, name, rest = sub, context, remaining[0], remaining[1:]


def credential_variables() -> set[str]:
    """The variables the store reads its credentials from, as it asks for them."""

    class Asked(dict[str, str]):
        def __init__(self) -> None:
            super().__init__()
            self.names: set[str] = set()

        def get(self, key: str, default: Any = None) -> Any:
            self.names.add(key)
            return default

    asked = Asked()
    influx_credentials(asked)
    return asked.names


def settings_variables() -> set[str]:
    """Every variable the settings read: TERRITORY_FIELD, TERRITORY_SECTION__FIELD."""

    def walk(model: type[BaseModel], prefix: str) -> Iterator[str]:
        for name, info in model.model_fields.items():
            variable = f"{prefix}{name.upper()}"
            yield variable
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield from walk(annotation, variable + "__")

    return set(walk(Settings, PREFIX))


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """The TERRITORY_* variables of `env` that nothing reads."""
    known = settings_variables() | credential_variables() | {CONFIG_ENV}
    return sorted(name for name in env if name.startswith(PREFIX) and name not in known)


def problems(compose: Mapping[str, Any]) -> list[str]:
    """What in the compose file the platform would not understand: each `territory`
    command that the CLI refuses, each TERRITORY_* variable nothing reads, each secret a
    service names under /run/secrets without mounting it."""
    found = []
    for name, spec in compose["services"].items():
        args = command_of(spec)
        environment = environment_of(spec)
        if args[:1] == ["territory"]:
            try:
                parse_command(args[1:])
            except CommandError as exc:
                found.append(f"{name}: {exc}")
        found += [
            f"{name}: nothing reads {variable}" for variable in unknown_variables(environment)
        ]
        mounted = {
            s if isinstance(s, str) else s.get("target", s["source"])
            for s in spec.get("secrets") or []
        }
        named = " ".join([*args, *map(str, environment.values())])
        for secret in sorted(set(_SECRET_PATH.findall(named)) - mounted):
            found.append(f"{name}: /run/secrets/{secret} is not one of its secrets")
    return found
