"""Real processes for delivery tests: ingest workers as subprocesses, a counting publisher."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from territory.bus import BrokerAddress, connect, make_client
from tests.ingest.helpers import wait_until
from tests.services import free_port, start_process, stop_process


@dataclass
class IngestProcess:
    """`territory ingest` in a subprocess, killable like a real deployment's worker."""

    mqtt_url: str
    store_url: str
    log_path: Path
    client_id: str = "ingest-under-test"
    extra: list[str] = field(default_factory=list)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> None:
        """Start, and by default wait until the worker is connected and subscribed."""
        args = ["ingest", "--mqtt", self.mqtt_url, "--store", self.store_url]
        args += ["--client-id", self.client_id, "--metrics-port", str(self.metrics_port)]
        self.process = start_process(
            [sys.executable, "-m", "territory", *args, *self.extra], self.log_path
        )
        if wait and not wait_until(lambda: self.health().get("subscribed") is True, 30):
            raise TimeoutError(f"ingest did not subscribe; see {self.log_path}")

    def health(self) -> dict[str, object]:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.metrics_port}/healthz")
        except httpx.HTTPError:
            return {}
        found: dict[str, object] = response.json()
        return found

    def metric(self, name: str) -> float:
        for line in httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{name} not in /metrics")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        # Make sure the port is free for the restarted worker.
        wait_until(lambda: not self.health(), 5)

    def stop(self) -> int:
        return stop_process(self.process, 15) or 0


@dataclass
class CountingPublisher:
    """Publishes meter readings with (device, seq) identity and records which ones the
    broker acknowledged (PUBACK): those are the ones that must reach the store."""

    mqtt_url: str
    devices: int = 50
    first_seq: int = 0
    published: int = 0
    _confirmed: int = 0
    _sent: list[tuple[mqtt.MQTTMessageInfo, tuple[str, int]]] = field(default_factory=list)

    @property
    def acked(self) -> set[tuple[str, int]]:
        return {key for info, key in self._sent if info.is_published() and info.rc == 0}

    def run(self, count: int, progress: threading.Event | None = None, every: int = 0) -> None:
        address = BrokerAddress.from_url(self.mqtt_url)
        client = make_client(address, "counting-publisher")
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.on_publish = self._on_publish
        connect(client, address)
        client.loop_start()
        ts = time.time()
        try:
            for n in range(count):
                device, seq = f"m-{n % self.devices}", self.first_seq + n // self.devices
                # A device's readings each have their own time, as real ones do.
                payload = json.dumps(
                    {
                        "ts": ts + seq * 0.001,
                        "seq": seq,
                        "activePower": 1.0,
                        "activeEnergyImport": float(n),
                    }
                )
                info = client.publish(f"territory/z/meter/{device}/telemetry", payload, qos=1)
                self._sent.append((info, (device, seq)))
                self.published += 1
                if progress is not None and every and self.published % every == 0:
                    progress.set()
                deadline = time.monotonic() + 60
                while self.published - self._confirmed > 2000 and time.monotonic() < deadline:
                    time.sleep(0.001)
            deadline = time.monotonic() + 60
            while self._confirmed < self.published and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            client.loop_stop()
            client.disconnect()

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, rc: ReasonCode, props: object
    ) -> None:
        self._confirmed += 1
