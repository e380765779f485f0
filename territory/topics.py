"""The MQTT topic layout, in one place."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

ROOT = "territory"
TELEMETRY_FILTER = f"{ROOT}/+/+/+/telemetry"
COMMAND_FILTER = f"{ROOT}/+/+/+/cmd"
PLANS_FILTER = f"{ROOT}/plans/+"
# What a bridge could not turn into a reading, handed to ingest to be kept as a dead letter.
REJECTS_PREFIX = f"{ROOT}/rejects/"
REJECTS_FILTER = f"{REJECTS_PREFIX}+/+"


class DeviceTopic(NamedTuple):
    zone: str
    kind: str
    device_id: str


def telemetry(zone: str, kind: str, device_id: str) -> str:
    return f"{ROOT}/{zone}/{kind}/{device_id}/telemetry"


def command(zone: str, kind: str, device_id: str) -> str:
    return f"{ROOT}/{zone}/{kind}/{device_id}/cmd"


def plan(domain: str) -> str:
    return f"{ROOT}/plans/{domain}"


def deadletter(reason: str) -> str:
    return f"{ROOT}/deadletter/{reason}"


def alert(source: str) -> str:
    """Alerts raised by a component that has no store of its own (a bridge)."""
    return f"{ROOT}/alerts/{source}"


def bridge_reject(source: str, reason: str) -> str:
    """Where bridge `source` sends what it refused, for ingest to keep as a dead letter."""
    return f"{REJECTS_PREFIX}{source}/{reason}"


def shared(group: str, topic_filter: str) -> str:
    return f"$share/{group}/{topic_filter}"


# A territory has tens of thousands of devices, each on a fixed topic: ingest parses the
# same topics over and over.
@lru_cache(maxsize=1 << 17)
def parse_device_topic(topic: str, suffix: str = "telemetry") -> DeviceTopic | None:
    """Split `territory/{zone}/{kind}/{device_id}/{suffix}`; None when it is not that shape."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[4] != suffix or not all(parts[1:4]):
        return None
    return DeviceTopic(parts[1], parts[2], parts[3])
