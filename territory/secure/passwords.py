"""Mosquitto's password file, written without `mosquitto_passwd`.

Mosquitto 2 stores `username:$7$ITERATIONS$SALT$HASH`: PBKDF2-HMAC-SHA512 over the
password with a 12-byte random salt, 64 bytes of output, salt and hash in standard
base64. Writing it here keeps `territory secure init` free of the broker's tools and lets
a re-run keep the lines of accounts it does not re-issue, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

# mosquitto_passwd's own default. Stretching guards weak, human-chosen passwords; these
# are 256-bit random secrets, out of reach of guessing at any iteration count, while
# every iteration costs the broker CPU on each CONNECT of a whole fleet reconnecting.
ITERATIONS = 101
_SALT_BYTES = 12
_HASH_BYTES = 64
_PREFIX = "$7$"


def new_password() -> str:
    """A fresh random password (256 bits, URL-safe characters, no colon)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$...` hash mosquitto accepts for `password`."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, _HASH_BYTES)
    encoded_salt = base64.b64encode(salt).decode()
    return f"{_PREFIX}{iterations}${encoded_salt}${base64.b64encode(digest).decode()}"


def verify(password: str, hashed: str) -> bool:
    """Whether `password` matches a `$7$` hash (as mosquitto would check it)."""
    if not hashed.startswith(_PREFIX):
        return False
    try:
        iterations_text, salt_text, _ = hashed[len(_PREFIX) :].split("$")
        salt = base64.b64decode(salt_text, validate=True)
        iterations = int(iterations_text)
    except ValueError:
        return False
    return hmac.compare_digest(hash_password(password, salt, iterations), hashed)


def read_password_file(path: Path) -> dict[str, str]:
    """username -> hash of an existing password file; empty when there is none."""
    if not path.exists():
        return {}
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        username, colon, hashed = line.partition(":")
        if colon and username:
            entries[username] = hashed
    return entries


def write_password_file(path: Path, entries: dict[str, str]) -> None:
    """`username:hash` lines, readable by their owner only."""
    text = "".join(f"{username}:{hashed}\n" for username, hashed in entries.items())
    write_private(path, text)


def write_private(path: Path, text: str) -> None:
    """Write a file that only its owner may read, never world-readable even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)  # O_CREAT's mode does not apply to a file left from a crash
    os.replace(temporary, path)
