"""A GBFS source: which system to read and how its stations become inventory devices."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from territory.geo import GeoOrigin

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=64)]
DEFAULT_DISCOVERED_FILE = Path("var/discovered-stations.yaml")


class GbfsSource(BaseModel):
    """One bike-share system read over GBFS."""

    model_config = ConfigDict(extra="forbid")

    feed: str = Field(description="URL of the system's auto-discovery file, gbfs.json.")
    name: Identifier | None = Field(
        default=None,
        description="Short name of the system: device ids are `{name}-{station_id}` unless "
        "`devices` says otherwise (default: the feed's host name).",
    )
    language: str | None = Field(
        default=None, description="Language to read names in, where the feed offers several."
    )
    devices: dict[str, Identifier] = Field(
        default_factory=dict, description="GBFS station_id → inventory device id."
    )
    zones: dict[str, Identifier] = Field(
        default_factory=dict,
        description="GBFS station_id → zone, for stations not yet in the inventory.",
    )
    origin: GeoOrigin | None = Field(
        default=None,
        description="Latitude and longitude of the inventory map's (0, 0): places discovered "
        "stations on the map and in their nearest zone.",
    )
    default_zone: Identifier | None = Field(
        default=None, description="Zone of a discovered station no other rule places."
    )
    publish_discovered: bool = Field(
        default=False,
        description="Also publish readings of stations not in the inventory (ingest with an "
        "inventory refuses them until they are added to it).",
    )
    discovered_file: Path = Field(
        default=DEFAULT_DISCOVERED_FILE,
        description="Where stations not yet in the inventory are listed for operators.",
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="HTTP timeout per file.")
    min_interval_s: float = Field(
        default=15.0,
        ge=0,
        description="Least time between two reads of one file, whatever its ttl.",
    )
    max_backoff_s: float = Field(
        default=600.0, gt=0, description="Longest wait after repeated failures of one file."
    )
    max_file_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, description="Largest file read; a larger one is refused."
    )

    @field_validator("feed")
    @classmethod
    def _http_url(cls, feed: str) -> str:
        if urlsplit(feed).scheme not in ("http", "https") or not urlsplit(feed).hostname:
            raise ValueError(f"feed must be an http(s) URL of gbfs.json, not {feed!r}")
        return feed

    @property
    def system(self) -> str:
        """The name used in device ids."""
        if self.name:
            return self.name
        host = urlsplit(self.feed).hostname or "gbfs"
        return _safe(host.split(".")[0])

    def device_id(self, station_id: str) -> str:
        return self.devices.get(station_id) or _safe(f"{self.system}-{station_id}")


class GbfsSources(BaseModel):
    """The GBFS systems a running platform reads (`territory gbfs poll --config FILE`)."""

    model_config = ConfigDict(extra="forbid")

    sources: list[GbfsSource] = Field(min_length=1, description="The systems to read.")


def _safe(text: str) -> str:
    """`text` with what an identifier cannot hold replaced, at most 64 characters."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:64] or "station"
