"""The domains the timer runs, in order; a new domain is one more entry in `live_domains`."""

from __future__ import annotations

from optimiser.energy.domain import EnergyDomain
from optimiser.forecast import BaseLoadForecaster
from optimiser.mobility.live import MobilityDomain
from optimiser.runner import Domain, Runner
from optimiser.slots.live import SlotsDomain
from optimiser.state import LiveSettings
from territory.bus import BrokerAddress
from territory.inventory import Inventory, load_inventory
from territory.settings import Settings


def live_domains(settings: Settings, inventory: Inventory | None = None) -> list[Domain]:
    """Every domain planned on each tick, each obeying the inventory's limits."""
    inventory = inventory or load_inventory(settings.inventory_file)
    live = LiveSettings(
        slot_minutes=settings.optimiser.slot_minutes,
        horizon_slots=settings.optimiser.horizon_slots,
    )
    forecaster = BaseLoadForecaster(slot_minutes=live.slot_minutes)
    return [
        EnergyDomain(inventory, live, forecaster),
        SlotsDomain(inventory),
        MobilityDomain(inventory),
    ]


def build_runner(
    broker: str | BrokerAddress,
    store_url: str,
    every_s: float,
    deadline_s: float | None,
    settings: Settings,
    only: list[str] | None = None,
) -> Runner:
    """A runner for every live domain, or for those named in `only`."""
    domains = live_domains(settings)
    if only:
        unknown = set(only) - {domain.name for domain in domains}
        if unknown:
            raise ValueError(f"not on the timer: {', '.join(sorted(unknown))}")
        domains = [domain for domain in domains if domain.name in only]
    return Runner(broker, store_url, every_s, domains, deadline_s)
