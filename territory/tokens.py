"""Bearer tokens: made at random, kept only as a salted hash, checked in constant time.

A token is 32 random bytes (URL-safe base64, 43 characters); a configuration holds its
hash as `sha256:SALT:DIGEST` (hex), the digest being SHA-256(salt + token). Why a plain
salted SHA-256 rather than scrypt or PBKDF2: those slow hashes protect guessable
passwords, and a token here has 256 bits of entropy, so no speed of hashing makes a brute
force of its hash feasible; a slow hash would instead be paid on every request (each API
call checks the token). The salt keeps two files holding the same token from showing the
same hash, and the comparison is `hmac.compare_digest`, whose time does not depend on
where two digests differ.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

SCHEME = "sha256"
TOKEN_BYTES = 32
SALT_BYTES = 16
HASH_PATTERN = re.compile(rf"^{SCHEME}:[0-9a-f]{{{2 * SALT_BYTES}}}:[0-9a-f]{{64}}$")


def new_token() -> str:
    """A fresh random token, never the same twice."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str, salt: bytes | None = None) -> str:
    """`sha256:SALT:DIGEST` of a token, with a fresh random salt unless one is given."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.sha256(salt + token.encode()).hexdigest()
    return f"{SCHEME}:{salt.hex()}:{digest}"


def is_token_hash(value: str) -> bool:
    """Whether `value` is spelled as `hash_token` writes a hash."""
    return HASH_PATTERN.match(value) is not None


def matches(token: str, stored: str) -> bool:
    """Whether `token` is the one whose hash is `stored`, in time independent of the digest."""
    if not is_token_hash(stored):
        return False
    _, salt_hex, digest_hex = stored.split(":")
    presented = hashlib.sha256(bytes.fromhex(salt_hex) + token.encode()).digest()
    return hmac.compare_digest(presented, bytes.fromhex(digest_hex))
