"""Devices a bridge found that the inventory does not list yet, kept for operators to see.

A GBFS bridge that reads a station the inventory lacks writes it here, as the inventory
device it would be (position, capacity, name, zone), with where it was seen. The console
shows these as *discovered*; an operator adds them to the inventory
(`territory gbfs adopt`), after which ingest accepts their readings. The file is YAML,
rewritten whole (write then rename) so that a reader never sees half of it.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from territory import documents
from territory.inventory import Device


class DiscoveredDevice(BaseModel):
    """One device seen in a feed and not in the inventory."""

    model_config = ConfigDict(extra="forbid")

    device: Device = Field(description="The inventory device it would be, as proposed.")
    source: str = Field(description="Where it was seen (the feed's URL, without its query).")
    external_id: str = Field(description="Its id in that feed (GBFS station_id).")
    latitude: float | None = Field(default=None, description="Degrees north, as published.")
    longitude: float | None = Field(default=None, description="Degrees east, as published.")
    zone_rule: str = Field(
        description="How its zone was chosen: mapping, nearest, default or source."
    )
    first_seen: datetime = Field(description="When the bridge first saw it.")
    last_seen: datetime = Field(description="When the bridge last read its information.")


class DiscoveredDevices(BaseModel):
    """The discovered-devices file."""

    model_config = ConfigDict(extra="forbid")

    devices: list[DiscoveredDevice] = Field(
        default_factory=list, description="Devices seen and not yet in the inventory."
    )


def load_discovered(path: Path) -> DiscoveredDevices:
    """The file's devices; an absent file lists none."""
    if not path.exists():
        return DiscoveredDevices()
    return documents.load(DiscoveredDevices, path, "discovered devices")


def save_discovered(path: Path, discovered: DiscoveredDevices) -> None:
    """Write the whole file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Devices seen by a bridge and not yet in the inventory (written by territory gbfs).\n"
        "# Add them with `territory gbfs adopt`, or copy a `device` into the inventory.\n"
    )
    listed = []
    for found in discovered.devices:
        entry = found.model_dump(mode="json")
        # The device as an inventory would hold it: what is at its default left out.
        entry["device"] = found.device.model_dump(mode="json", exclude_defaults=True)
        listed.append(entry)
    body = yaml.safe_dump({"devices": listed}, sort_keys=False, allow_unicode=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(header + body)
    os.replace(temporary, path)
