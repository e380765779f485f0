"""MQTT connection details shared by every component (paho-mqtt 2.x)."""

from __future__ import annotations

from typing import Literal, TypeVar, overload
from urllib.parse import parse_qs, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, Field

Protocol = Literal["5", "3.1.1"]
ClientT = TypeVar("ClientT", bound=mqtt.Client)

_PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311, "311": mqtt.MQTTv311}


class BrokerAddress(BaseModel):
    """Where the broker is and how to speak to it, parsed from `mqtt://user:pass@host:port?protocol=5`."""

    host: str = Field(description="Broker host name or address.")
    port: int = Field(default=1883, description="Broker TCP port.")
    username: str | None = Field(default=None, description="User name, if the broker wants one.")
    password: str | None = Field(default=None, description="Password, if the broker wants one.")
    protocol: Protocol = Field(
        default="5", description="MQTT version: 5, or 3.1.1 for brokers without MQTT 5."
    )

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"MQTT URL must look like mqtt://host:port, not {url!r}")
        query = parse_qs(parts.query)
        protocol = query.get("protocol", ["5"])[0]
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol must be 5 or 3.1.1, not {protocol!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or 1883,
            username=parts.username,
            password=parts.password,
            protocol="3.1.1" if protocol == "311" else protocol,
        )

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}?protocol={self.protocol}"

    @property
    def is_v5(self) -> bool:
        return self.protocol == "5"


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
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
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
