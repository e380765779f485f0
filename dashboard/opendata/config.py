"""What the console publishes openly, and under which rules: `config/opendata.yaml`.

Kept apart from the console's own configuration (tokens, alerts): a file that a data
officer owns. Absent, the defaults hold: Licence Ouverte 2.0, k = 5, household meters and
chargers only in aggregates, and no map origin (stations then have no position to publish).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dashboard.config import RateLimit
from territory import documents
from territory.geo import GeoOrigin

DEFAULT_OPENDATA_CONFIG = Path("config/opendata.yaml")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Licence(_Model):
    """The licence every published file and dataset carries."""

    id: str | None = Field(
        default="etalab-2.0",
        description="SPDX identifier (GBFS license_id); none for a licence outside SPDX's list.",
    )
    title: str = Field(
        default="Licence Ouverte / Open Licence version 2.0", description="Its name, for people."
    )
    url: str = Field(
        default="https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        description="Where its text is (GBFS license_url, DCAT dct:license).",
    )


class PublisherInfo(_Model):
    """Who publishes: the territory's authority."""

    name: str = Field(default="Soft Territory", description="Organisation name.")
    url: str | None = Field(default=None, description="Its web site.")
    email: str = Field(
        default="opendata@example.org",
        description="Contact for the data (GBFS feed_contact_email): set your own.",
    )


class GbfsPublishing(_Model):
    """The GBFS 3.0 system published at /gbfs/gbfs.json."""

    system_id: str = Field(default="soft-territory", description="Globally unique system id.")
    name: str = Field(default="Soft Territory", description="System name shown to riders.")
    language: str = Field(
        default="fr", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="Language."
    )
    timezone: str = Field(default="Europe/Paris", description="IANA time zone of the system.")
    opening_hours: str = Field(default="24/7", description="OSM opening_hours of the system.")
    ttl_s: int = Field(default=60, ge=0, le=3600, description="ttl of the status file, seconds.")
    static_ttl_s: int = Field(
        default=3600, ge=0, le=86400, description="ttl of the files that rarely change, seconds."
    )
    form_factor: str = Field(default="bicycle", description="GBFS form_factor of its vehicles.")
    propulsion_type: str = Field(default="human", description="GBFS propulsion_type.")


class PrivacyRules(_Model):
    """Nothing that describes one household leaves the platform."""

    k: int = Field(
        default=5,
        ge=2,
        le=1000,
        description="Least number of household devices a published aggregate may hold.",
    )
    household_kinds: list[str] = Field(
        default_factory=lambda: ["meter", "ev_charger"],
        description="Kinds whose devices may be a household's (residential meters, home chargers).",
    )
    public_devices: list[str] = Field(
        default_factory=list,
        description="Devices of those kinds that are not a household's (public chargers, "
        "commercial meters): ids or shell patterns such as `*-pub-*`.",
    )

    def is_household(self, device_id: str, kind: str) -> bool:
        if kind not in self.household_kinds:
            return False
        return not any(fnmatch.fnmatchcase(device_id, pattern) for pattern in self.public_devices)


class NgsiLdRules(_Model):
    """The read-only NGSI-LD API."""

    include_household: bool = Field(
        default=False,
        description="Also show household devices (meters, home chargers) one by one.",
    )
    max_limit: int = Field(default=1000, gt=0, le=10_000, description="Largest page asked for.")


class OpenDataConfig(_Model):
    """Everything published openly, and the rules it obeys."""

    origin: GeoOrigin | None = Field(
        default=None, description="Latitude and longitude of the inventory map's (0, 0)."
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL the public reaches the console at (default: as asked).",
    )
    licence: Licence = Field(default_factory=Licence, description="Licence of the open data.")
    publisher: PublisherInfo = Field(default_factory=PublisherInfo, description="Publisher.")
    gbfs: GbfsPublishing = Field(default_factory=GbfsPublishing, description="GBFS 3.0 feed.")
    privacy: PrivacyRules = Field(default_factory=PrivacyRules, description="Privacy rules.")
    ngsi_ld: NgsiLdRules = Field(default_factory=NgsiLdRules, description="NGSI-LD API.")
    public_rate_limit: RateLimit = Field(
        default_factory=lambda: RateLimit(per_minute=120, burst=30),
        description="Requests one address may make to the token-free open-data routes.",
    )
    indicator_max_days: int = Field(
        default=31, gt=0, le=366, description="Longest period one indicators request may cover."
    )
    discovered_file: Path = Field(
        default=Path("var/discovered-stations.yaml"),
        description="Stations the GBFS bridge found outside the inventory, shown to operators.",
    )


def load_opendata_config(path: Path | None) -> OpenDataConfig:
    """The file's settings; an absent file gives the defaults."""
    if path is None or not path.exists():
        return OpenDataConfig()
    return documents.load(OpenDataConfig, path, "open-data configuration")
