"""The energy loop of a compare run over OCPP (`territory simulate --compare --ocpp`).

A real bridge (`bridges.ocpp`: its registry, stations and websocket server) runs in this
process, on the fleet's asyncio loop and on the twin's virtual clock, and the twin's
chargers connect to it as charge points over real websockets on a free local port. What
the bridge publishes (the chargers' readings) reaches the policy as the broker would
deliver it; the twin's feeder readings reach the bridge (its floors and reflex); the
policy's charger set-points go to the bridge as they would on their `cmd` topics, and
the twin's chargers obey the profiles that come of them.

Time only moves when the twin lets it: before each decision every reading has been told
and every profile pushed; after it, the decision's profiles are held by the chargers
before the twin goes on.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import ocpp.messages as ocpp_messages

from bridges.ocpp import clock as bridge_clock
from bridges.ocpp.bridge import Bridge, BridgeSettings
from bridges.ocpp.registry import Registry
from bridges.ocpp.server import OcppServer
from devices.commands import ChargerSetpoint, Command
from devices.inventory import ocpp_inventory
from devices.ocpp_fleet import ChargePointFleet
from devices.ocpp_points import point_models, read_password
from devices.twin import Sink, Twin
from territory import topics

SETTLE_TIMEOUT_S = 60.0


class FeederTap:
    """The twin's sink, also handing feeder readings to the bridge (as its broker would)."""

    def __init__(self, inner: Sink) -> None:
        self.inner = inner
        self.tap: Callable[[str, bytes], None] | None = None

    def publish(self, topic: str, payload: bytes) -> None:
        self.inner.publish(topic, payload)
        if self.tap is not None and "/feeder/" in topic and topic.endswith("/telemetry"):
            self.tap(topic, payload)


class OcppLoop:
    """A bridge in this process and the twin's chargers connected to it."""

    def __init__(self, twin: Twin, seed: int, deliver: Sink, tap: FeederTap) -> None:
        # The ocpp package validates messages in a thread pool by default; inline is cheaper
        # (the bridge service makes the same choice).
        ocpp_messages.ASYNC_VALIDATION = False
        self.twin = twin
        self.folder = tempfile.TemporaryDirectory(prefix="compare-ocpp-")
        base = Path(self.folder.name)
        passwords = base / "passwords"
        inventory = ocpp_inventory(twin.scenario, passwords, seed)
        registry = Registry.from_inventory(inventory, base)
        ids = [c.device_id for c in twin.grid.chargers]
        self.fleet = ChargePointFleet(
            twin.grid.chargers,
            point_models(ids, seed),
            lambda cp_id: read_password(passwords, cp_id),
            twin.clock,
        )
        self.fleet.start_loop()

        def publish(topic: str, payload: dict[str, Any]) -> None:
            deliver.publish(topic, json.dumps(payload, separators=(",", ":")).encode())

        settings = BridgeSettings(floor_revision_delay_s=0.0, call_timeout_s=SETTLE_TIMEOUT_S)
        self.bridge, port = self.fleet.run(self._serve(registry, publish, settings))

        def to_bridge(topic: str, payload: bytes) -> None:
            self.fleet.after_reports(lambda: self.bridge.on_feeder_reading(topic, payload))

        tap.tap = to_bridge
        self.fleet.connect(f"ws://127.0.0.1:{port}")
        twin.chargepoints = self.fleet

    def clock(self) -> AbstractContextManager[None]:
        """The bridge on the twin's time while the loop runs."""
        return bridge_clock.driven_by(lambda: self.twin.clock.stamp(self.twin.t))

    async def _serve(
        self,
        registry: Registry,
        publish: Callable[[str, dict[str, Any]], None],
        settings: BridgeSettings,
    ) -> tuple[Bridge, int]:
        bridge = Bridge(registry, publish, settings)
        self.server = await OcppServer(bridge).start("127.0.0.1", 0)
        port = next(iter(self.server.sockets)).getsockname()[1]
        return bridge, int(port)

    def quiet(self) -> None:
        """Every reading told, every profile pushed: the policy sees the territory now."""
        self.fleet.flush()
        self.fleet.run(self._settled())

    def deliver(self, commands: list[Command]) -> list[Command]:
        """Charger set-points to the bridge, until the chargers hold their profiles; the
        other commands are the twin's to obey."""
        setpoints = [c for c in commands if isinstance(c, ChargerSetpoint)]
        if setpoints:
            self.fleet.run(self._send(setpoints))
            self.twin.commands["ChargerSetpoint"] += len(setpoints)
        stamp = self.twin.clock.stamp(self.twin.t)
        for point in self.fleet.points.values():
            self.twin.grid.refresh(point.charger, self.twin.t)
            # A charger that changes its draw on a new profile says so at once (a meter value
            # on the change), as chargers do: the bridge must not take an EV draw that it has
            # not been told of yet for base load.
            self.fleet.report(point.charger, stamp)
        return [c for c in commands if not isinstance(c, ChargerSetpoint)]

    async def _send(self, setpoints: list[ChargerSetpoint]) -> None:
        for setpoint in setpoints:
            charger = self.twin.chargers.get(setpoint.device_id)
            zone = charger.zone if charger is not None else "unknown"
            topic = topics.command(zone, "ev_charger", setpoint.device_id)
            body = setpoint.model_dump(exclude={"device_id"})
            self.bridge.on_command(topic, json.dumps(body).encode())
        await self._settled()

    async def _settled(self) -> None:
        async with asyncio.timeout(SETTLE_TIMEOUT_S):
            while not self.bridge.settled():
                await asyncio.sleep(0.001)

    def close(self) -> None:
        async def stop_server() -> None:
            self.server.close()
            await self.server.wait_closed()

        try:
            self.fleet.close_points()
            self.fleet.run(stop_server(), timeout=30)
        finally:
            self.fleet.stop_loop()
            self.folder.cleanup()
