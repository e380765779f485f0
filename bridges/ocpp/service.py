"""The bridge as a running service: broker link, websocket server, status, clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass

import ocpp.messages as ocpp_messages

from bridges.ocpp.bridge import STATUS_TOPIC, Bridge, BridgeSettings
from bridges.ocpp.bus import BrokerLink
from bridges.ocpp.registry import Registry
from bridges.ocpp.server import OcppServer
from territory.bus import BrokerAddress

log = logging.getLogger(__name__)
STATUS_EVERY_S = 30.0


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the service needs, resolved from the command line."""

    registry: Registry
    broker: BrokerAddress
    host: str
    port: int
    tls: ssl.SSLContext | None
    settings: BridgeSettings


async def run_service(config: ServiceConfig, stop: asyncio.Event) -> None:
    """Serve until `stop` is set; the broker must be reachable at start."""
    # The ocpp package validates every message against its JSON schema in a thread pool
    # by default: two thread hops per message, under the GIL anyway. Inline it is cheaper
    # for thousands of charge points (a plan to 3,000 of them: see docs/ocpp.md).
    ocpp_messages.ASYNC_VALIDATION = False
    loop = asyncio.get_running_loop()
    link: BrokerLink | None = None

    def publish(topic: str, payload: dict[str, object]) -> None:
        assert link is not None
        link.publish(topic, payload)

    bridge = Bridge(config.registry, publish, config.settings)
    link = BrokerLink(config.broker, loop, bridge.on_command, bridge.on_feeder_reading)
    await asyncio.to_thread(link.start)
    server = await OcppServer(bridge, config.tls).start(config.host, config.port)
    scheme = "wss" if config.tls is not None else "ws"
    log.info(
        "OCPP central system for %d charge points on %s://%s:%d/ocpp/{id}",
        len(bridge.stations),
        scheme,
        config.host,
        config.port,
    )
    try:
        while not stop.is_set():
            bridge.check_silence(time.monotonic())
            link.publish(STATUS_TOPIC, bridge.status())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), STATUS_EVERY_S)
    finally:
        server.close()
        await server.wait_closed()
        link.stop()
