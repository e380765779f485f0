"""The text of mosquitto 2's configuration and ACL files for a secured territory.

Option names and semantics are mosquitto 2.0's (`man mosquitto.conf`). Two behaviours of
that version shape the choices below:

- its `acl_file` checks subscriptions only when messages are delivered: a SUBSCRIBE to
  `#` is accepted, and each message is then sent only if the subscriber may read its
  topic. The `$share/...` lines in the ACL cost nothing today and are what a broker that
  checks subscription strings will look for;
- queue bounds, packet size, session expiry and retained messages are global options,
  the same for every client: the values serve the most demanding client (an ingest
  worker riding out an outage), and devices are bounded by their listener instead (one
  session per device, see `principals`).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from territory.secure.principals import Listener, Principal

_HEADER = (
    "# Written by `territory secure init`; a re-run rewrites this file, so change its\n"
    "# options there rather than here.\n"
)


class BrokerLimits(BaseModel):
    """Bounds that keep one misbehaving client from exhausting the broker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_queued_messages: int = Field(
        default=2_000_000,
        ge=1,
        description="QoS 1 messages queued per client beyond those in flight; sized for an "
        "ingest worker down for a while at full rate. Beyond it, messages to that client drop.",
    )
    max_queued_bytes: int = Field(
        default=1 << 30,
        ge=1,
        description="Payload bytes queued per client: the bound that holds when messages are large.",
    )
    max_packet_size: int = Field(
        default=2 << 20,
        ge=1024,
        description="Largest MQTT packet accepted; a client sending more is disconnected. "
        "Payloads between ingest's limit (64 KiB) and this one reach ingest and are "
        "dead-lettered as oversize, with a reason.",
    )
    session_expiry: str = Field(
        default="7d",
        pattern=r"^[0-9]+[hdwmy]$",
        description="Longest a disconnected persistent session is kept (mosquitto duration).",
    )


class BrokerLayout(BaseModel):
    """Where everything the broker reads lives, and the ports it listens on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path = Field(description="The set-up's folder (absolute).")
    seen_as: PurePosixPath | None = Field(
        default=None,
        description="Where the broker's container mounts the folder; None: the broker reads "
        "the folder where it is.",
    )
    port: int = Field(ge=1, le=65535, description="Field listener: devices, the twin (TLS).")
    service_port: int = Field(ge=1, le=65535, description="Services listener (TLS).")
    local_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Plaintext listener on 127.0.0.1 for services on the broker's host; "
        "None: no plaintext listener at all.",
    )
    ca_cert: Path = Field(description="CA certificate.")
    server_cert: Path = Field(description="The broker's certificate.")
    server_key: Path = Field(description="The broker's private key.")

    def password_file(self, listener: Listener) -> Path:
        return self.folder / f"{listener}.passwd"

    def acl_file(self, listener: Listener) -> Path:
        return self.folder / f"{listener}.acl"

    def seen(self, path: Path) -> PurePosixPath | Path:
        """`path`, inside the folder, as the broker (and the containers) will open it."""
        if self.seen_as is None:
            return path
        return self.seen_as / path.relative_to(self.folder).as_posix()

    @property
    def conf_file(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def data_folder(self) -> Path:
        return self.folder / "data"


def acl_text(listener: Listener, accounts: list[Principal]) -> str:
    """The ACL file of one listener: each user may write what it publishes and read what
    it subscribes to, nothing else (no pattern lines, no anonymous section)."""
    lines = [_HEADER, f"# Accounts of the {listener} listener.\n"]
    for principal in accounts:
        if principal.listener != listener:
            continue
        lines.append(f"\nuser {principal.name}\n")
        lines += [f"topic write {topic}\n" for topic in principal.rights.publish]
        lines += [f"topic read {topic}\n" for topic in principal.rights.subscribe]
    return "".join(lines)


def mosquitto_conf(layout: BrokerLayout, limits: BrokerLimits, user: str | None = None) -> str:
    """mosquitto.conf: global limits and persistence, then one section per listener.
    `user`: the account a broker started as root drops to."""
    sections = [_HEADER, _global_section(layout, limits)]
    if user is not None:
        sections.insert(1, f"\n# Started as root, the broker drops to this account.\nuser {user}\n")
    sections.append(_tls_listener(layout, "field", layout.port))
    sections.append(_tls_listener(layout, "services", layout.service_port))
    if layout.local_port is not None:
        sections.append(_local_listener(layout, layout.local_port))
    return "\n".join(sections)


def _global_section(layout: BrokerLayout, limits: BrokerLimits) -> str:
    return f"""
# Authentication and ACLs belong to each listener: device credentials are not valid on
# the services listener, and service credentials are not valid on the field listener.
per_listener_settings true

# Sessions and queued QoS 1 messages survive a broker restart.
persistence true
persistence_location {layout.seen(layout.data_folder)}/
autosave_interval 30

# No retained messages at all: a retained command would be obeyed again by every device
# that reconnects, long after it was meant. A client that sends one is disconnected.
# Nothing in the platform retains: plans and commands are re-sent every tick.
retain_available false

# A manual-ack consumer (ingest) holds a whole batch unacknowledged: the in-flight
# window must exceed the batch size, or consumer and broker wait on each other.
max_inflight_messages 0
# Per-client bounds (global options in mosquitto 2, one value for every client).
max_queued_messages {limits.max_queued_messages}
max_queued_bytes {limits.max_queued_bytes}
max_packet_size {limits.max_packet_size}
# Sessions left behind are dropped after this long (MQTT 5 clients may ask for less).
persistent_client_expiration {limits.session_expiry}
set_tcp_nodelay true
"""


def _tls_listener(layout: BrokerLayout, listener: Listener, port: int) -> str:
    who = {
        "field": "devices and the twin's gateway. The client id is replaced by the user\n"
        "# name: one session per device, and no device can take over another's session.",
        "services": "ingest, optimiser, console (one client id per process or replica).",
    }[listener]
    clientid_rule = "use_username_as_clientid true\n" if listener == "field" else ""
    return f"""
# -- {listener} listener, TLS: {who}
listener {port}
protocol mqtt
certfile {layout.seen(layout.server_cert)}
keyfile {layout.seen(layout.server_key)}
cafile {layout.seen(layout.ca_cert)}
tls_version tlsv1.2
allow_anonymous false
password_file {layout.seen(layout.password_file(listener))}
acl_file {layout.seen(layout.acl_file(listener))}
{clientid_rule}"""


def _local_listener(layout: BrokerLayout, port: int) -> str:
    return f"""
# -- local listener, plaintext, loopback only: services on the broker's own host.
# The same accounts and ACL as the services listener.
listener {port} 127.0.0.1
protocol mqtt
allow_anonymous false
password_file {layout.seen(layout.password_file("services"))}
acl_file {layout.seen(layout.acl_file("services"))}
"""
