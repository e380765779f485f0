"""Alerts: raised and cleared by the rules of the console configuration, kept with their times.

Each rule looks at the live state after every poll and names the conditions that hold now,
each under a stable key (rule and subject). A key that appears is raised, one that is gone
is cleared and moves to the history; an open alert whose severity or figures change is
updated in place, keeping the time it was raised.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dashboard.config import AlertRules
from dashboard.corridors import CorridorLoad, corridor_loads
from dashboard.live import Changes, FeedState, TickHook
from dashboard.territory_map import TerritoryMap
from territory.limits import claims_of


@dataclass(frozen=True)
class Condition:
    """Something wrong now: what the alert will say."""

    key: str
    rule: str
    severity: str  # warning | critical
    message: str
    zone: str | None = None
    device_id: str | None = None
    value: float | None = None


class AlertBook:
    """Open alerts and the history of cleared ones (bounded), updated by `evaluate`."""

    def __init__(self, rules: AlertRules, territory: TerritoryMap, history: int = 1000) -> None:
        self.rules = rules
        self.territory = territory
        self.open: dict[str, dict[str, Any]] = {}
        self.cleared: deque[dict[str, Any]] = deque(maxlen=history)
        self._deadletter_seen: deque[tuple[float, dict[str, int]]] = deque()

    def evaluate(self, state: FeedState, now: float) -> dict[str, dict[str, Any]]:
        """Apply the rules; the alerts raised, updated or cleared (cleared ones `removed`)."""
        holding = {c.key: c for c in self.conditions(state, now)}
        changed: dict[str, dict[str, Any]] = {}
        for key, condition in holding.items():
            before = self.open.get(key)
            alert = _alert(condition, raised=before["raised"] if before else now)
            if alert != before:
                self.open[key] = changed[key] = alert
        for key in [k for k in self.open if k not in holding]:
            alert = {**self.open.pop(key), "state": "cleared", "cleared": now}
            self.cleared.appendleft(alert)
            changed[key] = {**alert, "removed": True}
        return changed

    def conditions(self, state: FeedState, now: float) -> Iterator[Condition]:
        yield from self._device_conditions(state, now)
        for load in corridor_loads(state, self.territory):
            yield from self._corridor_condition(load)
        yield from self._deadletter_conditions(state.deadletters, now)
        yield from self._ingest_conditions(state, now)

    def _device_conditions(self, state: FeedState, now: float) -> Iterator[Condition]:
        rules = self.rules
        for reading in state.readings.values():
            device, zone, kind, fields = (
                reading["device_id"],
                reading["zone"],
                reading["kind"],
                reading["fields"],
            )
            limit = rules.stale_after_s_by_kind.get(kind, rules.stale_after_s)
            if now - float(reading["ts"]) > limit:
                # The value is the time of the last reading, so the alert stays unchanged
                # (and is not sent again) while the device stays silent.
                yield Condition(
                    f"stale:{device}",
                    "stale",
                    "warning",
                    f"{device}: no reading for over {limit:.0f} s",
                    zone,
                    device,
                    float(reading["ts"]),
                )
            if kind == "bike_station":
                yield from _station(rules, device, zone, fields)
            elif kind == "feeder":
                yield from _feeder(rules, device, zone, fields, self._feeder_limit(device))
            yield from self._limit_claims(device, zone, kind, fields)

    def _feeder_limit(self, device_id: str) -> float | None:
        """The inventory's limit; None without an inventory (the reading's is shown then)."""
        inventory = self.territory.inventory
        device = inventory.device(device_id) if inventory is not None else None
        return device.limit_kw if device is not None else None

    def _limit_claims(
        self, device_id: str, zone: str, kind: str, fields: dict[str, Any]
    ) -> Iterator[Condition]:
        """A reading claiming a limit other than the inventory's: forged or misconfigured."""
        inventory = self.territory.inventory
        device = inventory.device(device_id) if inventory is not None else None
        if device is None or device.kind != kind:
            return
        for claim in claims_of(kind, fields, device):
            yield Condition(
                f"limit_claim:{device_id}:{claim.attribute}",
                "limit_claim",
                "critical",
                f"{claim.describe()}; check the device's configuration or who publishes as it",
                zone,
                device_id,
                float(claim.claimed) if isinstance(claim.claimed, int | float) else None,
            )

    def _corridor_condition(self, load: CorridorLoad) -> Iterator[Condition]:
        if load.capacity and load.per_slot > load.capacity * self.rules.corridor_over_ratio:
            yield Condition(
                f"corridor:{load.corridor}",
                "corridor_over_capacity",
                "critical",
                f"corridor {load.corridor} carries about {load.per_slot:.0f} per slot,"
                f" capacity {load.capacity:.0f}",
                load.zone,
                None,
                round(load.per_slot / load.capacity, 3),
            )

    def _deadletter_conditions(self, counts: dict[str, int], now: float) -> Iterator[Condition]:
        window = self.rules.deadletter_window_s
        self._deadletter_seen.append((now, dict(counts)))
        while len(self._deadletter_seen) > 1 and self._deadletter_seen[1][0] <= now - window:
            self._deadletter_seen.popleft()
        oldest = self._deadletter_seen[0][1]
        for reason, count in sorted(counts.items()):
            new = count - oldest.get(reason, 0)
            if new >= self.rules.deadletter_threshold:
                yield Condition(
                    f"deadletters:{reason}",
                    "dead_letters",
                    "warning",
                    f"{new} messages dead-lettered as {reason} in the last {window:.0f} s",
                    value=float(new),
                )

    def _ingest_conditions(self, state: FeedState, now: float) -> Iterator[Condition]:
        if not state.readings:
            return
        newest = max(float(r["arrival"]) for r in state.readings.values())
        if now - newest > self.rules.ingest_silent_after_s:
            yield Condition(
                "ingest:silent",
                "ingest_degraded",
                "critical",
                f"no reading stored for over {self.rules.ingest_silent_after_s:.0f} s",
                value=newest,
            )
            return
        recent = [
            float(r["arrival"]) - float(r["ts"])
            for r in state.readings.values()
            if now - float(r["arrival"]) <= max(10.0, 2 * self.rules.ingest_lag_s)
        ]
        lag = statistics.median(recent) if recent else 0.0
        if lag > self.rules.ingest_lag_s:
            yield Condition(
                "ingest:lag",
                "ingest_degraded",
                "warning",
                f"readings are stored {lag:.1f} s after they were measured",
                value=round(lag, 2),
            )


def _station(
    rules: AlertRules, device: str, zone: str, fields: dict[str, Any]
) -> Iterator[Condition]:
    bikes, free = fields.get("availableBikeNumber"), fields.get("freeSlotNumber")
    if isinstance(bikes, int) and bikes <= rules.station_empty_at:
        yield Condition(
            f"empty:{device}",
            "station_empty",
            "warning",
            f"{device} has {bikes} bikes",
            zone,
            device,
            bikes,
        )
    if isinstance(free, int) and free <= rules.station_full_at:
        yield Condition(
            f"full:{device}",
            "station_full",
            "warning",
            f"{device} has {free} free docks",
            zone,
            device,
            free,
        )


def _feeder(
    rules: AlertRules, device: str, zone: str, fields: dict[str, Any], limit_kw: float | None
) -> Iterator[Condition]:
    load = fields.get("activePower")
    limit = limit_kw if limit_kw is not None else fields.get("powerLimit")
    if not isinstance(load, int | float) or not isinstance(limit, int | float) or limit <= 0:
        return
    ratio = load / limit
    if ratio > 1.0:
        severity, words = "critical", "over"
    elif ratio >= rules.feeder_near_ratio:
        severity, words = "warning", "near"
    else:
        return
    yield Condition(
        f"feeder:{device}",
        "feeder_load",
        severity,
        f"{device} at {load:.0f} kW, {words} its {limit:.0f} kW limit",
        zone,
        device,
        round(ratio, 3),
    )


def _alert(condition: Condition, raised: float) -> dict[str, Any]:
    return {
        "id": condition.key,
        "rule": condition.rule,
        "severity": condition.severity,
        "state": "open",
        "message": condition.message,
        "zone": condition.zone,
        "device_id": condition.device_id,
        "value": condition.value,
        "raised": raised,
        "cleared": None,
    }


def alert_hook(book: AlertBook) -> TickHook:
    """A feed hook keeping the `alerts` section current."""

    def hook(state: FeedState, now: float) -> Changes:
        return {"alerts": book.evaluate(state, now)}

    return hook
