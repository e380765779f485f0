"""Prometheus metrics of one ingest worker, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    """Counters and histograms `/metrics` serves; also read back by tests and `query stats`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter("ingest_received", "MQTT messages received.", registry=r)
        self.stored = Counter("ingest_stored", "Readings newly stored.", registry=r)
        self.duplicates = Counter(
            "ingest_duplicates", "Readings already stored under the same key.", registry=r
        )
        self.rejected = Counter(
            "ingest_rejected", "Messages dead-lettered, by reason.", ["reason"], registry=r
        )
        self.limit_claims = Counter(
            "ingest_limit_claims",
            "Readings stored that claim a limit other than the inventory's, by kind and attribute.",
            ["kind", "attribute"],
            registry=r,
        )
        self.deadletter_cut_bytes = Counter(
            "ingest_deadletter_cut_bytes",
            "Bytes of refused payloads cut off before they were dead-lettered.",
            registry=r,
        )
        self.deadletters_pruned = Counter(
            "ingest_deadletters_pruned",
            "Dead letters removed for age or over the cap (the counters above keep them).",
            registry=r,
        )
        self.batch_size = Histogram(
            "ingest_batch_size",
            "Messages per flushed batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000),
            registry=r,
        )
        self.write_seconds = Histogram(
            "ingest_write_seconds",
            "Time to write one batch durably.",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.lag_seconds = Histogram(
            "ingest_lag_seconds",
            "From a reading's device time to its durable write (up to 100 evenly spaced readings per batch).",
            buckets=(
                0.005,
                0.01,
                0.025,
                0.05,
                0.075,
                0.1,
                0.15,
                0.2,
                0.25,
                0.3,
                0.4,
                0.5,
                0.75,
                1,
                2,
                5,
                10,
                30,
                60,
                300,
            ),
            registry=r,
        )
        self.unacked = Gauge(
            "ingest_unacked", "Messages received, not yet acknowledged.", registry=r
        )
        self.store_up = Gauge("ingest_store_up", "1 when the last store write worked.", registry=r)
        self.broker_up = Gauge("ingest_broker_up", "1 while connected to the broker.", registry=r)
        self.store_up.set(1)

    def rejected_by_reason(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for metric in self.rejected.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["reason"]] = int(sample.value)
        return found
