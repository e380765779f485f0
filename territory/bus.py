"""MQTT connection details shared by every component (paho-mqtt 2.x): address, TLS,
credentials and client ids, and the broker's answers to CONNECT and SUBSCRIBE told apart
from its refusals."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, overload
from urllib.parse import parse_qs, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from territory.secure.account import load_account

Protocol = Literal["5", "3.1.1"]
ClientT = TypeVar("ClientT", bound=mqtt.Client)

_PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311, "311": mqtt.MQTTv311}
_SCHEMES = {"mqtt": False, "tcp": False, "mqtts": True, "ssl": True}  # scheme -> TLS


class BrokerAddress(BaseModel):
    """Where the broker is and how to speak to it: `mqtt://host:port?protocol=5` or
    `mqtts://host:port`, with credentials and CA from an account file (`--mqtt-auth`).

    The password is a SecretStr: it shows as `**********` in `repr`, and `url` never
    carries credentials, so either can be logged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(description="Broker host name or address.")
    port: int = Field(default=1883, description="Broker TCP port.")
    protocol: Protocol = Field(
        default="5", description="MQTT version: 5, or 3.1.1 for brokers without MQTT 5."
    )
    tls: bool = Field(default=False, description="Speak TLS (mqtts://).")
    ca_cert: Path | None = Field(
        default=None,
        description="CA certificate the broker's certificate must chain to; None: the system's.",
    )
    username: str | None = Field(default=None, description="User name, if the broker wants one.")
    password: SecretStr | None = Field(
        default=None, description="Password, if the broker wants one (never logged)."
    )

    @classmethod
    def from_url(cls, url: str, auth: str | Path | None = None) -> BrokerAddress:
        """Parse `url`; `auth` is an account file giving user name, password and CA.

        A password written in the URL is refused: it would sit on a command line and in
        every log line that names the broker."""
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError(
                f"MQTT URL must look like mqtt://host:port or mqtts://host:port, not {_redact(url)!r}"
            )
        if parts.password is not None:
            raise ValueError(
                "a password in the MQTT URL would show on command lines and in logs: "
                "put it in an account file and pass --mqtt-auth FILE"
            )
        query = parse_qs(parts.query)
        protocol = query.get("protocol", ["5"])[0]
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol must be 5 or 3.1.1, not {protocol!r}")
        tls = _SCHEMES[parts.scheme]
        fields: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port or (8883 if tls else 1883),
            "protocol": "3.1.1" if protocol == "311" else protocol,
            "tls": tls,
            "username": parts.username,
        }
        if auth is not None:
            account, ca = load_account(auth)
            fields.update(username=account.username, password=account.password, ca_cert=ca)
            if tls and parts.port is None:
                fields["port"] = account.port
        address = cls(**fields)
        address.refuse_plaintext_credentials()
        return address

    def refuse_plaintext_credentials(self) -> None:
        """A password goes in clear only to this machine (the broker's loopback listener)."""
        if self.password is not None and not self.tls and not is_loopback(self.host):
            raise ValueError(
                f"refusing to send credentials unencrypted to {self.host}: use mqtts://"
            )

    @property
    def url(self) -> str:
        """The address without credentials: safe to log."""
        scheme = "mqtts" if self.tls else "mqtt"
        user = f" as {self.username}" if self.username else ""
        return f"{scheme}://{self.host}:{self.port}?protocol={self.protocol}{user}"

    @property
    def is_v5(self) -> bool:
        return self.protocol == "5"

    def password_text(self) -> str | None:
        """The password itself, for the CONNECT packet and nothing else."""
        return None if self.password is None else self.password.get_secret_value()


def coerce_address(address: str | BrokerAddress) -> BrokerAddress:
    """Components accept either an address already built or a URL without credentials."""
    return address if isinstance(address, BrokerAddress) else BrokerAddress.from_url(address)


def tls_context(address: BrokerAddress) -> ssl.SSLContext:
    """TLS 1.2 or later, the broker's certificate checked against the CA and the host name."""
    context = ssl.create_default_context(
        cafile=str(address.ca_cert) if address.ca_cert is not None else None
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def default_client_id(component: str, replica: str | None = None, per_process: bool = False) -> str:
    """`territory-{component}-{host}[-{replica}][-{pid}]`: unique per host, so that two
    replicas never take over each other's session, and the same across restarts of one
    replica (persistent sessions need that). `per_process` adds the process id, for
    components without a persistent session of which one host may run several."""
    parts = [f"territory-{component}", socket.gethostname()]
    if replica:
        parts.append(replica)
    if per_process:
        parts.append(str(os.getpid()))
    return "-".join(parts)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`: addresses no other machine reaches."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redact(url: str) -> str:
    """The URL with anything before an @ (user and password) left out."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()


@overload
def make_client(
    address: BrokerAddress,
    client_id: str = "",
    *,
    persistent: bool = False,
    manual_ack: bool = False,
) -> mqtt.Client: ...


@overload
def make_client(
    address: BrokerAddress,
    client_id: str = "",
    *,
    persistent: bool = False,
    manual_ack: bool = False,
    client_class: type[ClientT],
) -> ClientT: ...


def make_client(
    address: BrokerAddress,
    client_id: str = "",
    *,
    persistent: bool = False,
    manual_ack: bool = False,
    client_class: type[mqtt.Client] = mqtt.Client,
) -> mqtt.Client:
    """A paho client for `address`. A persistent one keeps its session (and the broker's
    queue for it) across disconnects, which only works with a stable client id."""
    if persistent and not client_id:
        raise ValueError("a persistent session needs a stable client id")
    kwargs: dict[str, object] = {}
    if not address.is_v5:
        kwargs["clean_session"] = not persistent
    client = client_class(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=_PROTOCOLS[address.protocol],
        manual_ack=manual_ack,
        **kwargs,  # type: ignore[arg-type]
    )
    if address.tls:
        client.tls_set_context(tls_context(address))
    if address.username is not None:
        client.username_pw_set(address.username, address.password_text())
    return client


def connect_properties(session_expiry_s: int, receive_maximum: int | None = None) -> Properties:
    """MQTT 5 CONNECT properties: how long the broker keeps our session, how many
    unacknowledged messages it may send us at once."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = session_expiry_s
    if receive_maximum is not None:
        properties.ReceiveMaximum = min(receive_maximum, 65535)
    return properties


def connect(
    client: mqtt.Client,
    address: BrokerAddress,
    *,
    keepalive: int = 30,
    session_expiry_s: int = 0,
    receive_maximum: int | None = None,
) -> None:
    """Connect (blocking), with a persistent session when session_expiry_s > 0 on MQTT 5."""
    if address.is_v5:
        client.connect(
            address.host,
            address.port,
            keepalive=keepalive,
            clean_start=session_expiry_s == 0,
            properties=connect_properties(session_expiry_s, receive_maximum),
        )
    else:
        client.connect(address.host, address.port, keepalive=keepalive)


ConnectCallback = Callable[[mqtt.Client, Any, Any, ReasonCode, Any], None]
SubscribeCallback = Callable[[mqtt.Client, Any, int, list[ReasonCode], Any], None]


def on_connack(
    accepted: Callable[[mqtt.Client], None], refused: Callable[[ReasonCode], None]
) -> ConnectCallback:
    """A paho `on_connect` (callback API 2): `accepted(client)` when the broker took the
    connection, `refused(reason)` when it did not."""

    def callback(
        client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, props: object
    ) -> None:
        if reason.is_failure:
            refused(reason)
        else:
            accepted(client)

    return callback


def on_suback(
    granted: Callable[[], None], refused: Callable[[list[ReasonCode]], None]
) -> SubscribeCallback:
    """A paho `on_subscribe` (callback API 2): `granted()` when the broker granted every
    topic filter of the SUBSCRIBE, `refused(codes)` when it refused any."""

    def callback(
        client: mqtt.Client, userdata: object, mid: int, codes: list[ReasonCode], props: object
    ) -> None:
        if any(code.is_failure for code in codes):
            refused(codes)
        else:
            granted()

    return callback
