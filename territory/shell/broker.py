"""The embedded MQTT broker (amqtt) that lets the demo run with nothing installed.

amqtt speaks MQTT 3.1.1 only, so clients of the embedded broker use protocol 3.1.1. It
lets every client in on every topic, so it listens on loopback only: a territory's
devices reach mosquitto, set up by `territory secure init`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from amqtt.broker import Broker


def broker_config(host: str, port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    """Run an embedded broker until `stop` is set."""
    # amqtt logs every connection at INFO; the demo's console is for the territory.
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    broker = Broker(broker_config(host, port))
    await broker.start()
    try:
        await stop.wait()
    finally:
        await broker.shutdown()


def embedded_url(host: str, port: int) -> str:
    return f"mqtt://{host}:{port}?protocol=3.1.1"
