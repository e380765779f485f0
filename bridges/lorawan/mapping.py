"""Which inventory device each LoRaWAN device is, and how its decoded fields become our
attributes: a mapping file, one entry per device and one per device profile.

```yaml
profiles:
  air-v1:                         # ChirpStack device profile, or The Things Stack brand/model
    attributes:
      pm25: {field: pm2_5}
      no2: {field: gases.no2, scale: 1.88}    # ppb to µg/m³
devices:
  - {dev_eui: 0004a30b001c0530, device: centre-air-001, profile: air-v1}
```

The device's kind and zone come from the inventory, never from the uplink.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridges.lorawan.formats import Uplink, UplinkError
from territory.inventory import Device, Inventory
from territory.readings import RejectReason

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=64)]
Scalar = float | int | str | bool


class AttributeSource(BaseModel):
    """Where one attribute's value comes from: a decoded field, the inventory, or a constant."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(
        default=None, description="Dotted path of the decoded object's field (`gases.no2`)."
    )
    scale: float = Field(default=1.0, description="Multiply a numeric field by this.")
    offset: float = Field(default=0.0, description="Then add this.")
    integer: bool = Field(default=False, description="Round the result to an integer (counts).")
    values: dict[str, Scalar] | None = Field(
        default=None, description="Replace a field's value (as text) by another: codes to words."
    )
    inventory: str | None = Field(
        default=None, description="Take the value from this field of the inventory device."
    )
    value: Scalar | None = Field(default=None, description="A constant value.")

    @model_validator(mode="after")
    def _one_source(self) -> AttributeSource:
        given = [x for x in (self.field, self.inventory, self.value) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of field, inventory or value")
        return self


class Profile(BaseModel):
    """How the decoded object of one kind of LoRaWAN device maps to our attributes."""

    model_config = ConfigDict(extra="forbid")

    attributes: dict[str, AttributeSource] = Field(
        min_length=1, description="Our attribute name → where its value comes from."
    )


class DeviceMapping(BaseModel):
    """One LoRaWAN device and the inventory device it is."""

    model_config = ConfigDict(extra="forbid")

    dev_eui: str | None = Field(default=None, description="Its DevEUI (hex, any case).")
    ns_device: str | None = Field(
        default=None, description="Or its name (ChirpStack) or device id (The Things Stack)."
    )
    device: Identifier = Field(description="The inventory device it reports as.")
    profile: str | None = Field(
        default=None, description="Profile to use (default: the one the network server names)."
    )

    @model_validator(mode="after")
    def _identified(self) -> DeviceMapping:
        if self.dev_eui is None and self.ns_device is None:
            raise ValueError("give dev_eui or ns_device")
        if self.dev_eui is not None:
            self.dev_eui = self.dev_eui.lower()
        return self


class Mapping(BaseModel):
    """The whole mapping file."""

    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, Profile] = Field(description="Profile name → its attribute mapping.")
    devices: list[DeviceMapping] = Field(description="The LoRaWAN devices that report.")

    @model_validator(mode="after")
    def _profiles_exist(self) -> Mapping:
        for entry in self.devices:
            if entry.profile is not None and entry.profile not in self.profiles:
                raise ValueError(f"device {entry.device}: unknown profile {entry.profile!r}")
        return self


class Mapper:
    """Uplinks to (inventory device, attributes), or UplinkError with the reason why not."""

    def __init__(self, mapping: Mapping, inventory: Inventory) -> None:
        self.mapping = mapping
        self.inventory = inventory
        self._by_eui = {d.dev_eui: d for d in mapping.devices if d.dev_eui}
        self._by_name = {d.ns_device: d for d in mapping.devices if d.ns_device}

    def map(self, uplink: Uplink) -> tuple[Device, dict[str, Any]]:
        entry = self._by_eui.get(uplink.dev_eui or "") or self._by_name.get(uplink.ns_device)
        if entry is None:
            raise UplinkError(
                RejectReason.NOT_MAPPED,
                f"device {uplink.ns_device} (DevEUI {uplink.dev_eui}) is not in the mapping",
            )
        device = self.inventory.device(entry.device)
        if device is None:
            raise UplinkError(
                RejectReason.NOT_MAPPED, f"mapped device {entry.device!r} is not in the inventory"
            )
        name = entry.profile or uplink.profile
        profile = self.mapping.profiles.get(name or "")
        if profile is None:
            raise UplinkError(
                RejectReason.NOT_MAPPED, f"{entry.device}: no mapping for device profile {name!r}"
            )
        attributes = {
            attribute: _value(attribute, source, uplink.decoded, device)
            for attribute, source in profile.attributes.items()
        }
        return device, attributes


def _value(attribute: str, source: AttributeSource, decoded: dict[str, Any], device: Device) -> Any:
    if source.value is not None:
        return source.value
    if source.inventory is not None:
        return getattr(device, source.inventory, None)
    assert source.field is not None
    found: Any = decoded
    for part in source.field.split("."):
        if not isinstance(found, dict) or part not in found:
            raise UplinkError(
                RejectReason.MISSING_ATTRIBUTE,
                f"{attribute}: the decoded object has no {source.field!r}",
            )
        found = found[part]
    if source.values is not None:
        key = str(found).lower() if isinstance(found, bool) else str(found)
        if key not in source.values:
            raise UplinkError(
                RejectReason.INVALID_VALUE, f"{attribute}: {source.field}={found!r} is not mapped"
            )
        return source.values[key]
    if source.scale == 1.0 and source.offset == 0.0 and not source.integer:
        return found
    if isinstance(found, bool) or not isinstance(found, int | float):
        raise UplinkError(
            RejectReason.WRONG_TYPE, f"{attribute}: {source.field}={found!r} is not a number"
        )
    scaled = found * source.scale + source.offset
    return round(scaled) if source.integer else scaled
