"""The websocket server: the handshake (path, subprotocol, basic auth, TLS) and one OCPP
handler per connection, attached to its charge point's station.

Refusals happen in the HTTP handshake: an unknown charge point gets 404, a missing or
wrong password 401, a profile-2 charge point on a plain listener 403, a charger offering
neither `ocpp2.0.1` nor `ocpp1.6` 400. The reason is logged here, never the password.
A charge point that connects again replaces its older connection.
"""

from __future__ import annotations

import logging
import ssl
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bridges.ocpp import v16, v201
from bridges.ocpp.auth import admit, charge_point_id_of
from bridges.ocpp.bridge import Bridge
from bridges.ocpp.v16 import CentralSystem16
from bridges.ocpp.v201 import CentralSystem201

log = logging.getLogger(__name__)
SUBPROTOCOLS = [v201.SUBPROTOCOL, v16.SUBPROTOCOL]  # 2.0.1 preferred when offered both
MAX_MESSAGE_BYTES = 1 << 20


def tls_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server context for security profile 2: TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


class OcppServer:
    """Accepts charge points and runs each connection's OCPP handler."""

    def __init__(self, bridge: Bridge, tls: ssl.SSLContext | None = None) -> None:
        self.bridge = bridge
        self.tls = tls
        self.refusals: Counter[int] = Counter()
        self._connections: dict[str, ServerConnection] = {}

    async def start(self, host: str, port: int) -> Server:
        return await serve(
            self._handle,
            host,
            port,
            subprotocols=SUBPROTOCOLS,  # type: ignore[arg-type]
            process_request=self._admit,
            ssl=self.tls,
            max_size=MAX_MESSAGE_BYTES,
            ping_interval=60,
            ping_timeout=60,
        )

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        admission = admit(
            request.path,
            request.headers.get("Authorization"),
            self.tls is not None,
            self.bridge.registry,
        )
        if admission.charge_point is not None:
            return None
        self.refusals[admission.status] += 1
        log.warning("refused %s: %s", connection.remote_address, admission.reason)
        response = connection.respond(admission.status, f"{admission.status.phrase}\n")
        if admission.status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
        return response

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        cp_id = charge_point_id_of(connection.request.path)
        assert cp_id is not None  # admitted in the handshake
        station = self.bridge.stations[cp_id]
        handler_class: Callable[..., Any] = (
            CentralSystem16 if connection.subprotocol == v16.SUBPROTOCOL else CentralSystem201
        )
        handler = handler_class(
            station,
            connection,
            self.bridge.publish_reading,
            heartbeat_s=self.bridge.settings.heartbeat_s,
            call_timeout_s=self.bridge.settings.call_timeout_s,
        )
        older = self._connections.get(cp_id)
        self._connections[cp_id] = connection
        if older is not None:
            await older.close(1000, "replaced by a newer connection")
        station.attach(handler)
        log.info("%s connected (%s)", cp_id, connection.subprotocol)
        try:
            await handler.start()
        except ConnectionClosed:
            pass
        finally:
            station.detach(handler)
            if self._connections.get(cp_id) is connection:
                del self._connections[cp_id]
            log.info("%s disconnected", cp_id)
