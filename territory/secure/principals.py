"""Who may connect to the broker, on which listener, and what each may publish and receive.

Two listeners keep two kinds of principal apart:

- the **field** listener, for devices and the twin's gateway: the broker replaces the
  client id by the user name, so a holder of one device's credentials can neither take
  over another client's session (mosquitto 2 keys sessions by client id alone) nor
  leave more than one abandoned session behind;
- the **services** listener, for ingest, the optimiser and the console: their client ids
  are their own (`territory-ingest-{host}`), so replicas of one service keep one
  persistent session each; no device credential is valid there.

Each device publishes only its own telemetry and receives only its own commands. Nobody
but the optimiser publishes a command or a plan. A protocol bridge (OCPP, GBFS, LoRaWAN)
is a service that speaks for the devices behind it: it publishes their telemetry only,
and what it refused on its own `territory/rejects/{bridge}/...` tree, for ingest to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from territory import topics
from territory.inventory import Device, Inventory
from territory.secure.account import TopicRights

Listener = Literal["field", "services"]
LISTENERS: tuple[Listener, ...] = ("field", "services")

SIMULATOR = "simulator"
SERVICES = ("ingest", "optimiser", "console")
Bridge = Literal["ocpp", "gbfs", "lorawan"]
BRIDGES: tuple[str, ...] = get_args(Bridge)
# Kinds whose readings a LoRaWAN sensor may carry: never a feeder head, a charger or a
# van, whose readings the optimiser acts on and which have bridges or trackers of their own.
LORAWAN_KINDS = frozenset({"meter", "pv", "bike_station", "traffic", "transit_counter", "air"})
# Service client ids start with this: a device named so could collide with them.
CLIENT_ID_PREFIX = "territory-"
# Zones whose telemetry topics would fall under the plans or dead-letter trees.
RESERVED_ZONES = frozenset({"plans", "deadletter"})

PLANS_TREE = f"{topics.ROOT}/plans/#"
DEADLETTER_TREE = f"{topics.ROOT}/deadletter/#"
ALERTS_TREE = f"{topics.ROOT}/alerts/#"


class PrincipalError(ValueError):
    """An inventory whose ids cannot be broker identities as they are."""


@dataclass(frozen=True)
class Principal:
    """One account: its name (the broker user name), its listener, its rights."""

    name: str
    listener: Listener
    rights: TopicRights


def principals(
    inventory: Inventory, simulator: bool = True, bridges: tuple[str, ...] = ()
) -> list[Principal]:
    """Every account the inventory calls for: one per device, the services, the twin's
    gateway unless `simulator` is False, and each bridge named in `bridges` (the OCPP
    bridge whenever the inventory has OCPP connectors)."""
    check_identities(inventory)
    devices = list(inventory.by_id.values())
    found = [_device(device) for device in devices]
    if simulator:
        found.append(_simulator(devices))
    found.extend(_services())
    wanted = set(bridges) | ({"ocpp"} if any(d.ocpp for d in devices) else set())
    found.extend(_bridge(name, devices) for name in BRIDGES if name in wanted)
    return found


def check_identities(inventory: Inventory) -> None:
    """Refuse ids that would collide with the services' accounts, client ids or topics."""
    reserved = {SIMULATOR, *SERVICES, *BRIDGES}
    for device in inventory.by_id.values():
        if device.id in reserved or device.id.startswith(CLIENT_ID_PREFIX):
            raise PrincipalError(
                f"device {device.id!r}: ids {sorted(reserved)} and ids starting with "
                f"{CLIENT_ID_PREFIX!r} are kept for the platform's own accounts"
            )
    for zone in inventory.zones:
        if zone.id in RESERVED_ZONES:
            raise PrincipalError(
                f"zone {zone.id!r}: its topics would fall under territory/{zone.id}/, "
                "kept for plans and dead letters"
            )


def _device(device: Device) -> Principal:
    return Principal(
        device.id,
        "field",
        TopicRights(
            publish=[topics.telemetry(device.zone, device.kind, device.id)],
            subscribe=[topics.command(device.zone, device.kind, device.id)],
        ),
    )


def _simulator(devices: list[Device]) -> Principal:
    """The twin's gateway speaks for every device of the inventory, and plays the
    travellers who follow the slots plan."""
    return Principal(
        SIMULATOR,
        "field",
        TopicRights(
            publish=[topics.telemetry(d.zone, d.kind, d.id) for d in devices],
            subscribe=[topics.command(d.zone, d.kind, d.id) for d in devices]
            + [topics.plan("slots")],
        ),
    )


def _services() -> list[Principal]:
    return [
        Principal(
            "ingest",
            "services",
            TopicRights(
                publish=[DEADLETTER_TREE],
                subscribe=[
                    topics.TELEMETRY_FILTER,
                    topics.shared("+", topics.TELEMETRY_FILTER),
                    topics.REJECTS_FILTER,
                    topics.shared("+", topics.REJECTS_FILTER),
                ],
            ),
        ),
        Principal(
            "optimiser",
            "services",
            TopicRights(
                publish=[topics.COMMAND_FILTER, PLANS_TREE],
                subscribe=[topics.TELEMETRY_FILTER],
            ),
        ),
        Principal(
            "console",
            "services",
            TopicRights(
                publish=[],
                subscribe=[PLANS_TREE, DEADLETTER_TREE, ALERTS_TREE, topics.TELEMETRY_FILTER],
            ),
        ),
    ]


def _bridge(name: str, devices: list[Device]) -> Principal:
    """A bridge publishes the telemetry of the devices it speaks for, its own refusals,
    alerts and status; the OCPP bridge also receives its chargers' set-points and the
    readings of their feeders (its reflex against an overload)."""
    if name == "ocpp":
        spoken = [d for d in devices if d.ocpp is not None]
    elif name == "gbfs":
        spoken = [d for d in devices if d.kind == "bike_station"]
    else:
        spoken = [d for d in devices if d.kind in LORAWAN_KINDS]
    publish = [topics.telemetry(d.zone, d.kind, d.id) for d in spoken]
    publish += [f"{topics.REJECTS_PREFIX}{name}/#", topics.alert(name)]
    subscribe: list[str] = []
    if name == "ocpp":
        publish.append(f"{topics.ROOT}/bridges/ocpp/status")
        feeders = {d.feeder for d in spoken}
        subscribe = [topics.command(d.zone, d.kind, d.id) for d in spoken]
        subscribe += [topics.telemetry(d.zone, d.kind, d.id) for d in devices if d.id in feeders]
    return Principal(name, "services", TopicRights(publish=publish, subscribe=subscribe))
