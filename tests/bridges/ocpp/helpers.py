"""The OCPP bridge as a real process, an inventory written for each test, and an MQTT
listener that keeps what the bridge publishes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from territory.bus import BrokerAddress, connect, make_client
from tests.services import REPO, free_port, start_process, stop_process, wait_for_port


@dataclass
class ChargerSpec:
    """One charge point of a test inventory."""

    cp_id: str
    connectors: int = 1
    max_kw: float = 11.0
    feeder: str = "f1"
    security_profile: int = 1
    quirks: list[str] = field(default_factory=list)
    default_energy_kwh: float = 20.0
    default_dwell_h: float = 8.0

    @property
    def password(self) -> str:
        return f"pw-{self.cp_id}-0123456789"

    def device_id(self, connector: int = 1) -> str:
        return f"ev-{self.cp_id}-{connector}"


def write_inventory(
    folder: Path, chargers: list[ChargerSpec], feeder_limits: dict[str, float]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secrets").mkdir(exist_ok=True)
    devices: list[dict[str, Any]] = [
        {"id": fid, "kind": "feeder", "zone": "centre", "limit_kw": limit}
        for fid, limit in feeder_limits.items()
    ]
    for spec in chargers:
        secret = folder / "secrets" / f"{spec.cp_id}.pw"
        secret.write_text(spec.password + "\n")
        for connector in range(1, spec.connectors + 1):
            devices.append(
                {
                    "id": spec.device_id(connector),
                    "kind": "ev_charger",
                    "zone": "centre",
                    "feeder": spec.feeder,
                    "max_power_kw": spec.max_kw,
                    "ocpp": {
                        "charge_point_id": spec.cp_id,
                        "connector_id": connector,
                        "password_file": f"secrets/{spec.cp_id}.pw",
                        "security_profile": spec.security_profile,
                        "quirks": spec.quirks,
                        "default_energy_kwh": spec.default_energy_kwh,
                        "default_dwell_h": spec.default_dwell_h,
                    },
                }
            )
    inventory = {
        "name": "ocpp-test",
        "zones": [{"id": "centre", "name": "Centre", "x": 0, "y": 0}],
        "devices": devices,
    }
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


@dataclass
class BridgeProcess:
    """`territory ocpp` in a subprocess."""

    inventory: Path
    mqtt_url: str
    log_path: Path
    tls: tuple[Path, Path] | None = None
    extra: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = ["ocpp", "--listen", f"127.0.0.1:{self.port}"]
        args += ["--inventory", str(self.inventory), "--mqtt", self.mqtt_url, "--call-timeout", "2"]
        if self.tls:
            args += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        self.process = start_process(
            [sys.executable, "-m", "territory", *args, *self.extra], self.log_path, cwd=REPO
        )
        try:
            wait_for_port(self.port, 30)
        except TimeoutError:
            raise TimeoutError(f"the bridge did not listen; see {self.log_path}") from None

    def stop(self) -> None:
        stop_process(self.process, 10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text()


class Listener:
    """Every message on `territory/#`, kept in arrival order."""

    def __init__(self, url: str) -> None:
        address = BrokerAddress.from_url(url)
        self.messages: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = make_client(address, f"ocpp-test-listener-{time.monotonic_ns()}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        connect(self.client, address)
        self.client.subscribe("territory/#", qos=1)
        self.client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            payload = json.loads(message.payload)
        except ValueError:
            payload = message.payload
        with self._lock:
            self.messages.append((message.topic, payload))

    def on(self, topic: str) -> list[Any]:
        with self._lock:
            return [p for t, p in self.messages if t == topic]

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self.client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def eventually(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll `condition` until it holds (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]
