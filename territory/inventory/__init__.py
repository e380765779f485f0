"""The territory's inventory: zones, devices and their physical limits (the source of truth)."""

from territory.inventory.load import (
    InventoryError,
    dump_inventory,
    load_inventory,
    register_reader,
)
from territory.inventory.model import Corridor, Device, Inventory, OcppConnector, Van, Zone

__all__ = [
    "Corridor",
    "Device",
    "Inventory",
    "InventoryError",
    "OcppConnector",
    "Van",
    "Zone",
    "dump_inventory",
    "load_inventory",
    "register_reader",
]
