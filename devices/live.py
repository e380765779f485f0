"""A live run: the twin on a real clock, publishing through one MQTT connection."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.clock import Clock, RealClock
from devices.gateway import MqttGateway
from devices.ocpp_fleet import ChargePointFleet
from devices.ocpp_points import point_models, read_password
from devices.scenario import Scenario
from devices.simulator import Loop
from devices.twin import Twin
from territory.bus import BrokerAddress

_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$"
)


def parse_duration(text: str) -> float:
    """Seconds in '90s', '10m', '24h', '1h30m', '2d' or a bare number of seconds."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"duration must look like 90s, 10m, 24h or 1h30m, not {text!r}")
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


@dataclass
class LiveRun:
    """Everything a live run needs; `run()` blocks until the duration is over or `stop` is set."""

    scenario: Scenario
    mqtt_url: str | BrokerAddress
    seed: int = 0
    faults: float = 0.0
    speed: float = 1.0
    duration_s: float | None = None
    clock: Clock | None = None
    bad_commands: int = 0
    ocpp: tuple[str, Path] | None = None  # the bridge's URL and the passwords' folder

    def __post_init__(self) -> None:
        self.stop = threading.Event()
        self.gateway = MqttGateway(
            self.mqtt_url, f"territory-sim-{self.scenario.name}-{os.getpid()}"
        )
        self.clock = self.clock or RealClock(self.speed)
        self.twin = Twin(
            self.scenario, self.clock, self.gateway, seed=self.seed, fault_share=self.faults
        )
        self.fleet: ChargePointFleet | None = None
        if self.ocpp is not None:
            url, passwords = self.ocpp
            ids = [c.device_id for c in self.twin.grid.chargers]
            self.fleet = ChargePointFleet(
                self.twin.grid.chargers,
                point_models(ids, self.seed),
                lambda cp_id: read_password(passwords, cp_id),
                self.clock,
            )
            self.fleet_url = url.rstrip("/").removesuffix("/ocpp")

    def banner(self) -> str:
        zones = len(self.scenario.zones)
        text = (
            f"simulating {self.scenario.name}: {len(self.twin.devices)} devices in {zones} zones "
            f"-> {self.gateway.address.url} (one gateway connection; seed {self.seed}, "
            f"speed x{self.speed:g}, faults {self.faults:.0%})"
        )
        if self.fleet is not None:
            versions = [p.station.version for p in self.fleet.points.values()]
            text += (
                f"; {len(versions)} chargers as OCPP charge points -> {self.fleet_url}/ocpp "
                f"({versions.count('1.6')} on 1.6, {versions.count('2.0.1')} on 2.0.1)"
            )
        return text

    def connect(self) -> None:
        """Connect to the broker (BrokerUnreachable says why not), then the charge points
        to the bridge (OSError says why not)."""
        self.gateway.start()
        if self.fleet is not None:
            self.fleet.start(self.fleet_url)
            self.twin.chargepoints = self.fleet

    def close(self) -> None:
        """Disconnect the charge points (the gateway closes when `run` ends)."""
        if self.fleet is not None:
            self.fleet.close()

    def run(self) -> None:
        """Publish until the duration is over or `stop` is set; needs `connect()` first."""
        assert self.clock is not None
        until = None if self.duration_s is None else self.twin.start + self.duration_s
        loop = Loop(
            self.twin,
            self.clock,
            self.stop,
            until=until,
            inbox=self.gateway.drain,
            idle=self.gateway.poll,
        )
        try:
            loop.run()
        finally:
            self.close()
            self.gateway.close()
        self.bad_commands = loop.bad_commands

    def connect_and_run(self) -> None:
        self.connect()
        self.run()

    def summary(self) -> dict[str, Any]:
        return {
            "published": dict(self.twin.published),
            "faults": dict(self.twin.faults.injected),
            "readings_lost_to_silence": self.twin.faults.suppressed,
            "readings_flushed_late": self.twin.faults.flushed,
            "gateway": {
                "acked": self.gateway.acked,
                "refused": self.gateway.refused,
                "resent": self.gateway.resent,
                "dropped": self.gateway.dropped,
            },
            "commands": dict(self.twin.commands),
            "rejected_commands": dict(self.twin.rejected_commands),
            "kpis": self.twin.kpis.as_dict(),
            "ocpp": {} if self.fleet is None else dict(self.fleet.counts),
        }
