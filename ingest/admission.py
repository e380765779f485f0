"""Who may report, from the inventory: a message's topic checked before it is decoded.

A device the inventory does not list is refused (`unknown_device`), and so is a listed
device on a topic whose zone or kind is not its own (`wrong_topic`): a device cannot
report as another kind, nor from another zone. Readings that pass are compared with the
inventory's limits; a claim that differs is stored as it came and counted, never obeyed.
"""

from __future__ import annotations

import logging

from territory import topics
from territory.inventory import Inventory
from territory.limits import CLAIMED_LIMITS, LimitClaim, claims_of
from territory.readings import Reading, Rejection, RejectReason

log = logging.getLogger(__name__)


class Admission:
    """The inventory's view of each device: its zone and kind, and the limits it may claim."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._where = {d.id: (d.zone, d.kind) for d in inventory.by_id.values()}
        self._claimable = {kind for kind, _ in CLAIMED_LIMITS}
        self._logged: set[tuple[str, str, object]] = set()

    def refuse(self, topic: str, payload: bytes, arrival_ns: int) -> Rejection | None:
        """A rejection when the topic names a device the inventory does not let report there."""
        where = topics.parse_device_topic(topic)
        if where is None:
            return None  # not a device topic at all: decoding says so (bad_topic)
        listed = self._where.get(where.device_id)
        if listed is None:
            detail = f"device {where.device_id!r} is not in the inventory"
            return Rejection(RejectReason.UNKNOWN_DEVICE, topic, payload, arrival_ns, detail)
        zone, kind = listed
        if (where.zone, where.kind) != (zone, kind):
            detail = (
                f"device {where.device_id!r} is a {kind} in zone {zone!r}, "
                f"not a {where.kind} in {where.zone!r}"
            )
            return Rejection(RejectReason.WRONG_TOPIC, topic, payload, arrival_ns, detail)
        return None

    def claims(self, readings: list[Reading]) -> list[LimitClaim]:
        """Limits these readings claim that the inventory contradicts (logged once each)."""
        found: list[LimitClaim] = []
        for reading in readings:
            if reading.kind not in self._claimable:
                continue
            device = self.inventory.by_id[reading.device_id]
            found.extend(claims_of(reading.kind, dict(reading.fields), device))
        for claim in found:
            key = (claim.device_id, claim.attribute, claim.claimed)
            if key not in self._logged and len(self._logged) < 10_000:
                self._logged.add(key)
                log.warning("limit claim ignored: %s", claim.describe())
        return found
