"""Who may open a websocket: the charge point id in the path, its password in HTTP basic auth.

Security profile 1 is basic auth; profile 2 is basic auth over TLS, so a profile-2 charge
point is refused on a plain listener. Every refusal happens in the HTTP handshake, before
any OCPP message, and says nothing about which part was wrong to the caller.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import unquote

from bridges.ocpp.registry import ChargePointEntry, Registry

PATH_PREFIX = "/ocpp/"


@dataclass(frozen=True)
class Admission:
    """The handshake's verdict: the charge point admitted, or why not (for our log only)."""

    charge_point: ChargePointEntry | None
    status: HTTPStatus = HTTPStatus.OK
    reason: str = ""


def admit(path: str, authorization: str | None, tls: bool, registry: Registry) -> Admission:
    """Check the request path and the Authorization header against the registry."""
    charge_point_id = charge_point_id_of(path)
    if charge_point_id is None:
        return Admission(None, HTTPStatus.NOT_FOUND, f"path {path!r} is not /ocpp/{{id}}")
    entry = registry.charge_points.get(charge_point_id)
    if entry is None:
        return Admission(None, HTTPStatus.NOT_FOUND, f"unknown charge point {charge_point_id}")
    if entry.security_profile >= 2 and not tls:
        return Admission(None, HTTPStatus.FORBIDDEN, f"{entry.id} must connect over TLS (wss)")
    credentials = basic_credentials(authorization)
    if credentials is None:
        return Admission(None, HTTPStatus.UNAUTHORIZED, f"{entry.id} sent no basic auth")
    username, password = credentials
    # Both compared in constant time, so that timing tells nothing about either.
    user_ok = hmac.compare_digest(username.encode(), entry.id.encode())
    password_ok = hmac.compare_digest(password.encode(), entry.password.encode())
    if not (user_ok and password_ok):
        return Admission(None, HTTPStatus.UNAUTHORIZED, f"{entry.id}: wrong user or password")
    return Admission(entry)


def charge_point_id_of(path: str) -> str | None:
    """`/ocpp/CP-1` → `CP-1`; None for any other shape."""
    path = path.split("?", 1)[0]
    if not path.startswith(PATH_PREFIX):
        return None
    identity = unquote(path[len(PATH_PREFIX) :])
    if not identity or "/" in identity:
        return None
    return identity


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from `Basic base64(user:password)`; None when absent or malformed."""
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None
