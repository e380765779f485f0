"""Commands the twin obeys, parsed from MQTT or handed over by an in-process policy.

MQTT payloads follow the contracts: a charger set-point on
`territory/{zone}/ev_charger/{id}/cmd`, a van route on `territory/{zone}/van/{id}/cmd`,
and slot moves inside the slots plan on `territory/plans/slots`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from territory import documents, topics

CHARGER_FILTER = f"{topics.ROOT}/+/ev_charger/+/cmd"
VAN_FILTER = f"{topics.ROOT}/+/van/+/cmd"
SLOTS_PLAN_TOPIC = topics.plan("slots")
SUBSCRIPTIONS = (CHARGER_FILTER, VAN_FILTER, SLOTS_PLAN_TOPIC)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ChargerSetpoint(_Command):
    """Draw at most `setpoint` kW until `valid_until`, then charge uncontrolled again."""

    device_id: str = Field(description="Charger the set-point is for.")
    ts: float = Field(description="When the command was issued, epoch seconds.")
    setpoint: float = Field(ge=0, description="Highest power to draw, kW.")
    valid_until: float = Field(description="Epoch seconds after which the set-point lapses.")
    plan: str = Field(default="", description="Plan the command comes from.")


class VanStop(_Command):
    station: str = Field(description="Bike station device id.")
    load: int = Field(description="+n: pick up n bikes; -n: drop off n bikes.")


class VanRoute(_Command):
    """Drive to these stations in order, loading or unloading at each."""

    van_id: str = Field(description="Van the route is for.")
    ts: float = Field(description="When the command was issued, epoch seconds.")
    plan: str = Field(default="", description="Plan the route comes from.")
    stops: list[VanStop] = Field(description="Stops in driving order.")


class SlotShift(_Command):
    """Ask `count` commuters of a corridor to travel in another slot."""

    corridor: str = Field(description="Corridor id.")
    from_slot: float = Field(description="Start of the slot they asked for, epoch seconds.")
    to_slot: float = Field(description="Start of the slot assigned, epoch seconds.")
    count: int = Field(ge=0, description="Commuters moved.")


Command = ChargerSetpoint | VanRoute | SlotShift


class CommandError(ValueError):
    """A command payload the twin cannot obey; the message says why."""


def parse_command(topic: str, payload: bytes) -> list[Command]:
    """The commands carried by one MQTT message (a slots plan carries many)."""
    if topic == SLOTS_PLAN_TOPIC:
        return list(parse_slots_plan(payload))
    where = topics.parse_device_topic(topic, suffix="cmd")
    if where is None or where.kind not in ("ev_charger", "van"):
        raise CommandError(f"{topic}: not a command topic the twin obeys")
    try:
        if where.kind == "ev_charger":
            return [
                ChargerSetpoint.model_validate_json(_with_id(payload, "device_id", where.device_id))
            ]
        return [VanRoute.model_validate_json(_with_id(payload, "van_id", where.device_id))]
    except ValidationError as exc:
        raise CommandError(f"{topic}: {documents.describe(exc)}") from exc


def parse_slots_plan(payload: bytes) -> list[SlotShift]:
    """Slot moves from a slots plan: `body.moves` = [{corridor, from_slot, to_slot, count}]."""
    try:
        plan = _Plan.model_validate_json(payload)
        return [SlotShift.model_validate(move) for move in plan.body.get("moves", [])]
    except ValidationError as exc:
        raise CommandError(f"{SLOTS_PLAN_TOPIC}: {documents.describe(exc)}") from exc


class _Plan(BaseModel):
    model_config = ConfigDict(extra="ignore")

    body: dict[str, Any] = Field(description="The plan's decisions and KPIs.")


def _with_id(payload: bytes, name: str, value: str) -> bytes:
    """The JSON object with the device id from the topic added (the payload has none)."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise CommandError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CommandError("a command is a JSON object")
    document[name] = value
    return json.dumps(document).encode()
