"""InfluxDB credentials, from the environment or from files: never from the store URL.

A store URL is printed at start-up, logged on errors and visible in process lists, so it
carries no secret. The token (InfluxDB 2.x/3.x) or user and password (1.x) come from
`TERRITORY_INFLUX_TOKEN`, `TERRITORY_INFLUX_USERNAME`, `TERRITORY_INFLUX_PASSWORD`, or,
for container secrets, from the files that `TERRITORY_INFLUX_TOKEN_FILE`,
`TERRITORY_INFLUX_USERNAME_FILE` and `TERRITORY_INFLUX_PASSWORD_FILE` name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "TERRITORY_INFLUX_"


@dataclass(frozen=True)
class InfluxCredentials:
    """What the store sends to InfluxDB to authenticate; repr never shows a secret."""

    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def influx_credentials(environ: Mapping[str, str] | None = None) -> InfluxCredentials:
    """The credentials the environment gives; empty when it gives none."""
    environ = os.environ if environ is None else environ
    return InfluxCredentials(
        token=_secret(environ, "TOKEN"),
        username=_secret(environ, "USERNAME"),
        password=_secret(environ, "PASSWORD"),
    )


def _secret(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(PREFIX + name)
    path = environ.get(f"{PREFIX}{name}_FILE")
    if path:
        try:
            value = Path(path).read_text().strip()
        except OSError as exc:
            raise ValueError(f"{PREFIX}{name}_FILE: cannot read {path} ({exc.strerror})") from exc
    return value or None
