"""What a controller may see of the twin: its telemetry as ingest would store it, plus
what an operator knows without sensors (where its vans are, the slot bookings).

`ObservingSink` sits where the broker would be: it keeps the newest payload of every
topic and decodes them with ingest's own decoder when an observation is asked for, so a
policy sees exactly what the store's `latest()` would give it (faults and all) and
never the twin's ground truth.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from devices.flows import SlotLoad
from devices.scenario import Scenario
from devices.twin import Sink, Twin
from territory.decode import decode
from territory.kinds import KINDS
from territory.readings import Reading

OUTLOOK_S = 4 * 3600.0  # how far ahead slot bookings are visible


@dataclass(frozen=True, slots=True)
class VanStatus:
    """A van as fleet tracking shows it."""

    van_id: str
    x: float
    y: float
    carried: int
    capacity: int
    busy: bool  # still driving a route


@dataclass
class ObservingSink:
    """Keeps the newest payload per topic (and passes every message on, if asked to);
    decodes them lazily, kind by kind, when a policy looks."""

    forward: Sink | None = None
    fresh: dict[str, dict[str, bytes]] = field(default_factory=lambda: defaultdict(dict))
    latest: dict[str, dict[str, Reading]] = field(default_factory=lambda: defaultdict(dict))
    rejected: int = 0

    def publish(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/", 3)
        self.fresh[parts[2] if len(parts) > 2 else ""][topic] = payload
        if self.forward is not None:
            self.forward.publish(topic, payload)

    def of_kind(self, kind: str, now: float) -> dict[str, Reading]:
        """Decode what arrived for `kind` since the last look; each device's newest reading."""
        fresh = self.fresh.pop(kind, None)
        latest = self.latest[kind]
        if not fresh:
            return latest
        arrival_ns = int(now * 1e9)
        for topic, payload in fresh.items():
            decoded = decode(topic, payload, arrival_ns=arrival_ns)
            if decoded.rejection is not None:
                self.rejected += 1
                continue
            for reading in decoded.readings:
                if reading.kind != kind:
                    continue
                known = latest.get(reading.device_id)
                if known is None or reading.ts_ns >= known.ts_ns:
                    latest[reading.device_id] = reading
        return latest


@dataclass
class Observation:
    """The state a policy decides on, at `now` (epoch seconds, the twin's stamp clock)."""

    now: float
    scenario: Scenario
    vans: list[VanStatus]
    slots: list[SlotLoad]  # slot starts as stamps (epoch seconds)
    sink: ObservingSink

    def of_kind(self, kind: str) -> list[Reading]:
        """The newest accepted reading of every device of this kind."""
        return list(self.sink.of_kind(kind, self.now).values())

    @property
    def readings(self) -> dict[str, Reading]:
        """The newest accepted reading of every device, by device id."""
        found: dict[str, Reading] = {}
        for kind in KINDS:
            found.update(self.sink.of_kind(kind, self.now))
        return found


def observe(twin: Twin, sink: ObservingSink) -> Observation:
    """What a controller of `twin` sees now."""
    t = twin.t
    now = twin.clock.stamp(t)
    vans = [
        VanStatus(van.spec.id, van.x, van.y, van.carried, van.spec.capacity, bool(van.stops))
        for van in twin.bikes.vans.values()
    ]
    return Observation(
        now=now,
        scenario=twin.scenario,
        vans=vans,
        slots=[
            replace(slot, start=twin.clock.stamp(slot.start))
            for slot in twin.flows.outlook(t, OUTLOOK_S)
        ],
        sink=sink,
    )
