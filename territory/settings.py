"""Settings: `config/settings.yaml`, overridden by `TERRITORY_*` environment variables,
overridden in turn by command-line options."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from territory.bus import default_client_id
from territory.logs import LogFormat

CONFIG_ENV = "TERRITORY_CONFIG"
AUTH_FILE_ENV = "TERRITORY_MQTT_AUTH_FILE"  # the environment's name for `mqtt_auth_file`
DEFAULT_CONFIG = Path("config/settings.yaml")


class DeadLetterSettings(BaseModel):
    """Bounds on the dead-letter table; Prometheus counters keep the full totals."""

    model_config = ConfigDict(extra="forbid")

    payload_max_bytes: int = Field(
        default=16 * 1024,
        ge=0,
        description="Bytes of a refused payload kept (and republished); the rest is cut, and "
        "the cut noted in the dead letter's detail and counted.",
    )
    retention_s: int = Field(
        default=14 * 24 * 3600, gt=0, description="Dead letters older than this are removed."
    )
    max_rows: int = Field(
        default=100_000, gt=0, description="Most dead letters kept; the oldest go first."
    )


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str | None = Field(
        default=None,
        description="MQTT client id; None: territory-ingest-{host}[-{replica}], unique per "
        "host and the same across restarts, as its persistent session needs.",
    )
    replica: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Replica name, when one host runs several workers: part of the client id.",
    )
    group: str | None = Field(
        default=None, description="Shared-subscription group; None subscribes directly."
    )
    batch_size: int = Field(
        default=5000,
        gt=0,
        description="Flush a batch at this many messages (at full load; age flushes first below).",
    )
    batch_age_ms: int = Field(default=50, gt=0, description="Flush a batch at this age.")
    max_pending: int = Field(
        default=20000,
        gt=0,
        description="Most unacknowledged messages held while the store is down.",
    )
    session_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=0, description="How long the broker keeps our session."
    )
    metrics_port: int | None = Field(default=None, description="Prometheus /metrics port.")
    deadletter_publish: bool = Field(
        default=True, description="Republish rejects on territory/deadletter/{reason}."
    )
    deadletters: DeadLetterSettings = Field(
        default_factory=DeadLetterSettings,
        description="Bounds on the dead letters: payload size, age, rows.",
    )
    keepalive_s: int = Field(
        default=15,
        ge=1,
        le=65535,
        description="MQTT keepalive: a silent connection is pinged, and dropped when the "
        "broker does not answer.",
    )

    def mqtt_client_id(self) -> str:
        """The client id this worker connects with."""
        return self.client_id or default_client_id("ingest", self.replica)


class OptimiserSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every_s: float = Field(default=60.0, gt=0, description="Seconds between optimiser ticks.")
    slot_minutes: int = Field(default=15, gt=0, description="Length of a planning slot.")
    horizon_slots: int = Field(default=32, gt=0, description="Slots planned ahead.")


class DashboardSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address the dashboard listens on.")
    port: int = Field(default=8080, description="Port the dashboard listens on.")


class RetentionSettings(BaseModel):
    """How long each kind of data is kept (docs/operations.md says why these defaults)."""

    model_config = ConfigDict(extra="forbid")

    raw_days: float = Field(
        default=7,
        gt=0,
        description="Raw readings, in days (SQLite drops them a whole day at a time).",
    )
    rollups_days: float = Field(
        default=730,
        gt=0,
        description="Rollups of every level, in days (SQLite drops them a whole month at a time).",
    )
    deadletters_days: float = Field(default=30, gt=0, description="Dead letters, in days.")
    deadletters_max_rows: int = Field(
        default=1_000_000,
        gt=0,
        description="Most dead letters kept (SQLite); the oldest go first beyond it.",
    )
    plans_days: float = Field(default=365, gt=0, description="Optimiser plans, in days.")


class RollupSettings(BaseModel):
    """Rollups: per device and time bin, what its readings did."""

    model_config = ConfigDict(extra="forbid")

    bins_s: list[int] = Field(
        default=[900, 86400],
        min_length=1,
        description="Bin lengths in seconds, finest first; each a multiple of the one before "
        "and a divisor of a day (the first is computed from raw readings, each next from it).",
    )
    state_hold_s: int = Field(
        default=900,
        gt=0,
        description="How long a state (an EV charger's status, ...) is taken to hold after "
        "its reading when no newer reading comes.",
    )
    raw_window_s: float = Field(
        default=6 * 3600,
        gt=0,
        description="History windows up to this long are read from raw readings, longer ones "
        "from rollups.",
    )

    @field_validator("bins_s")
    @classmethod
    def _nested(cls, bins: list[int]) -> list[int]:
        for finer, coarser in itertools.pairwise(bins):
            if coarser <= finer or coarser % finer:
                raise ValueError(f"bin {coarser} s is not a multiple of the finer {finer} s")
        for size in bins:
            if size <= 0 or (86400 % size and size % 86400):
                raise ValueError(f"bin {size} s neither divides a day nor is whole days")
        return bins


class MaintenanceSettings(BaseModel):
    """`territory store maintain`: rollups, retention and space, in the background."""

    model_config = ConfigDict(extra="forbid")

    every_s: float = Field(default=60, gt=0, description="Seconds between maintenance passes.")
    duty: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Largest share of the time maintenance holds the store's write lock "
        "(SQLite): after each step it rests long enough to stay under it.",
    )
    nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much the maintainer lowers its CPU priority (Unix nice): on a busy "
        "machine the ingest it runs beside gets the processor first.",
    )


class Settings(BaseSettings):
    """Everything a Soft Territory process can be told."""

    model_config = SettingsConfigDict(
        env_prefix="TERRITORY_", env_nested_delimiter="__", extra="forbid"
    )

    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="Broker URL: mqtt://host:port?protocol=5 or mqtts://host:port (no credentials).",
    )
    log_format: LogFormat = Field(
        default="text",
        description="Log lines as text, or as JSON objects for a log collector "
        "(`territory --log-format json ...`).",
    )
    mqtt_auth_file: Path | None = Field(
        default=None,
        description="Account file from `territory secure init`: the broker user name, password "
        "and CA (TERRITORY_MQTT_AUTH_FILE; --mqtt-auth FILE).",
    )
    store_url: str = Field(
        default="sqlite:///var/territory.db", description="sqlite:///PATH or influx://HOST:PORT/DB"
    )
    territory_file: Path = Field(
        default=Path("config/territories/demo.yaml"), description="Scenario the simulator runs."
    )
    inventory_file: Path = Field(
        default=Path("config/territories/demo.yaml"),
        description="Inventory the platform obeys: who may report and every hard limit "
        "(a scenario file is accepted too: its devices are the inventory).",
    )
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Ingest workers.")
    optimiser: OptimiserSettings = Field(
        default_factory=OptimiserSettings, description="The optimiser's timer and horizon."
    )
    dashboard: DashboardSettings = Field(
        default_factory=DashboardSettings, description="The operator console."
    )
    retention: RetentionSettings = Field(
        default_factory=RetentionSettings, description="How long each kind of data is kept."
    )
    rollups: RollupSettings = Field(
        default_factory=RollupSettings, description="Rollups per device and time bin."
    )
    maintenance: MaintenanceSettings = Field(
        default_factory=MaintenanceSettings,
        description="The background pass that keeps rollups, retention and space.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_file = Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file))


def load_settings() -> Settings:
    return Settings()
