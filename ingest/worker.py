"""One ingest worker: subscribe, decode, batch, write durably, then acknowledge.

paho's network loop, decoding and batching run on one thread, so no lock guards
the batch; store writes run on a second one (`ingest.writer`), one batch at a
time, while the next batch fills. A message is acknowledged only after the batch
holding it is in the store, so a killed worker loses nothing: the broker
redelivers. Past `max_pending` unacknowledged messages the worker stops reading,
and the broker holds the rest: that is the backpressure.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from ingest.admission import Admission
from ingest.backoff import Backoff
from ingest.batch import Batch
from ingest.client import IngestClient
from ingest.deadletters import bounded
from ingest.metrics import IngestMetrics
from ingest.writer import BatchWriter, Written
from territory import topics
from territory.bus import BrokerAddress, connect, make_client, on_connack, on_suback
from territory.decode import decode
from territory.inventory import Inventory
from territory.settings import IngestSettings
from territory.store import Store, WriteResult

log = logging.getLogger("ingest")

# paho's loop() returns quickly when idle; this bounds how late an aged batch flushes.
_LOOP_TIMEOUT_S = 0.01
_SUBSCRIBE_TIMEOUT_S = 10.0
_LAG_SAMPLES_PER_BATCH = 100


@dataclass
class Health:
    """What `/healthz` reports."""

    broker_connected: bool = False
    store_up: bool = True
    last_error: str = ""
    last_flush: float = 0.0

    @property
    def ok(self) -> bool:
        return self.broker_connected and self.store_up


class IngestWorker:
    """Telemetry from one broker into one store, at least once."""

    def __init__(
        self,
        address: BrokerAddress,
        store: Store,
        settings: IngestSettings,
        metrics: IngestMetrics | None = None,
        *,
        auto_ack: bool = False,
        inventory: Inventory | None = None,
    ) -> None:
        self.address = address
        # Without an inventory every device may report (the open demo and test rigs).
        self.admission = Admission(inventory) if inventory is not None else None
        self.store = store
        self.settings = settings
        self.metrics = metrics or IngestMetrics()
        self.health = Health()
        self._batch = Batch(settings.batch_size, settings.batch_age_ms / 1000)
        # auto_ack exists only so a test can show the harness sees the loss it causes.
        self._auto_ack = auto_ack
        self._subscribed = threading.Event()
        self._client = make_client(
            address,
            settings.mqtt_client_id(),
            persistent=True,
            manual_ack=not auto_ack,
            client_class=IngestClient,
        )
        self._client.on_connect = on_connack(
            self._on_connected, functools.partial(log.warning, "broker refused the connection: %s")
        )
        self._client.on_disconnect = self._on_disconnect
        self._client.on_telemetry = self._on_telemetry
        self._client.on_message = self._on_message
        self._client.on_subscribe = on_suback(self._subscribed.set, self._subscription_refused)
        self._connected_at = 0.0
        self._received = 0
        self._received_counted = 0
        self._store_backoff = Backoff()
        self._store_retry_at = 0.0
        self._writer = BatchWriter(store, settings.deadletters)
        self._payload_max_bytes = settings.deadletters.payload_max_bytes
        self._writing = 0  # messages in the batch the writer holds
        self._connection = 0  # counts connections: message ids are only valid on their own

    @property
    def subscription(self) -> str:
        return ", ".join(self.subscriptions)

    @property
    def subscriptions(self) -> list[str]:
        """Telemetry, and what bridges refused (kept as dead letters like any reject)."""
        filters = [topics.TELEMETRY_FILTER, topics.REJECTS_FILTER]
        if self.settings.group:
            return [topics.shared(self.settings.group, f) for f in filters]
        return filters

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set, then write what was received and disconnect."""
        broker_backoff = Backoff()
        while not stop.is_set():
            if not self.health.broker_connected and not self._connect(broker_backoff, stop):
                continue
            if self._unacked() >= self.settings.max_pending:
                # Full while the store is slow or down: stop reading, so the broker keeps
                # the rest queued instead of us holding it in memory.
                self._client.loop_misc()
                if self._writer.busy:
                    self._settle(self._writer.collect(timeout=_LOOP_TIMEOUT_S * 10))
                else:
                    stop.wait(_LOOP_TIMEOUT_S * 10)
            elif self._writer.busy and len(self._batch) >= self._batch.max_size:
                # The next batch is full before the last one is written: wait for the
                # writer rather than grow the batch, which would only delay both.
                self._client.loop_misc()
                self._settle(self._writer.collect(timeout=_LOOP_TIMEOUT_S))
            else:
                self._client.loop(timeout=_LOOP_TIMEOUT_S)
                self._drain()
            self._flush_if_due()
            self._watchdog()
        self._finish()
        self._client.disconnect()

    def _drain(self) -> None:
        """Read what the broker already sent, up to a full batch."""
        batch = self._batch
        self._client.read_waiting(lambda: len(batch) < batch.max_size)

    def _unacked(self) -> int:
        return len(self._batch) + self._writing

    def wait_subscribed(self, timeout: float) -> bool:
        return self._subscribed.wait(timeout)

    def status(self) -> tuple[bool, dict[str, object]]:
        """(healthy, details) for `/healthz`."""
        subscribed = self._subscribed.is_set()
        return self.health.ok and subscribed, {
            "broker_connected": self.health.broker_connected,
            "subscribed": subscribed,
            "store_up": self.health.store_up,
            "unacked": self._unacked(),
            "last_flush": self.health.last_flush,
            "last_error": self.health.last_error,
        }

    # -- broker ----------------------------------------------------------------

    def _connect(self, backoff: Backoff, stop: threading.Event) -> bool:
        try:
            connect(
                self._client,
                self.address,
                keepalive=self.settings.keepalive_s,
                session_expiry_s=self.settings.session_expiry_s,
                receive_maximum=self.settings.max_pending,
            )
        except OSError as exc:
            delay = backoff.next_delay()
            log.warning(
                "broker %s unreachable (%s); retrying in %.1f s", self.address.url, exc, delay
            )
            stop.wait(delay)
            return False
        # The CONNACK arrives through loop(); health flips in _on_connected.
        deadline = time.monotonic() + 10
        while not self.health.broker_connected and time.monotonic() < deadline:
            if self._client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                break
        if not self.health.broker_connected:
            delay = backoff.next_delay()
            log.warning("broker %s did not accept us; retrying in %.1f s", self.address.url, delay)
            stop.wait(delay)
            return False
        backoff.reset()
        return True

    def _on_connected(self, client: mqtt.Client) -> None:
        self.health.broker_connected = True
        self.metrics.broker_up.set(1)
        # Subscribe on every connect: a broker that lost our session must not leave us
        # connected and silent.
        client.subscribe([(topic_filter, 1) for topic_filter in self.subscriptions])
        self._connected_at = time.monotonic()
        log.info("connected to %s, subscribed to %s", self.address.url, self.subscription)

    def _subscription_refused(self, codes: list[ReasonCode]) -> None:
        log.error("broker refused the subscription to %s: %s", self.subscription, codes)

    def _watchdog(self) -> None:
        """paho drops a connection whose keepalive pings go unanswered; this also drops one
        whose subscription was never confirmed, so a worker cannot sit connected and deaf."""
        if (
            self.health.broker_connected
            and not self._subscribed.is_set()
            and time.monotonic() - self._connected_at > _SUBSCRIBE_TIMEOUT_S
        ):
            log.warning("no SUBACK within %s s; reconnecting", _SUBSCRIBE_TIMEOUT_S)
            self._client.disconnect()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: ReasonCode, props: object
    ) -> None:
        self.health.broker_connected = False
        self.metrics.broker_up.set(0)
        self._subscribed.clear()
        # Message ids of the lost connection mean nothing on the next one; the broker
        # redelivers everything unacknowledged, so the unwritten batch is dropped (and
        # a batch being written will not be acknowledged).
        self._connection += 1
        self._batch.clear()
        self.metrics.unacked.set(self._writing)
        log.warning("disconnected from broker: %s", rc)

    def _on_telemetry(self, topic: str, payload: bytes, ack: int | None) -> None:
        """One message into the batch, with the id to acknowledge once it is written."""
        # Metrics are updated per batch, not per message: this is the hot path.
        self._received += 1
        refused = self.admission.refuse(topic, payload, time.time_ns()) if self.admission else None
        if refused is not None:
            self._batch.add([], bounded(refused, self._payload_max_bytes), ack, topic, payload)
            return
        decoded = decode(topic, payload)
        if self.admission is not None:
            for claim in self.admission.claims(decoded.readings):
                self.metrics.limit_claims.labels(claim.kind, claim.attribute).inc()
        rejection = decoded.rejection
        if rejection is not None:
            # Cut now: a batch of refused 2 MiB payloads must not sit whole in memory.
            rejection = bounded(rejection, self._payload_max_bytes)
        self._batch.add(decoded.readings, rejection, ack, topic, payload)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        """What the short path leaves to paho: QoS 0, properties, auto-ack."""
        ack = message.mid if message.qos and not self._auto_ack else None
        self._on_telemetry(message.topic, bytes(message.payload), ack)

    # -- store -----------------------------------------------------------------

    def _flush_if_due(self) -> None:
        self.metrics.received.inc(self._received - self._received_counted)
        self._received_counted = self._received
        self._settle(self._writer.collect())
        self.metrics.unacked.set(self._unacked())
        if self._writer.busy or not self._batch.due():
            return
        if time.monotonic() >= self._store_retry_at:
            self._submit()

    def _submit(self) -> None:
        self._writer.submit(self._batch, self._connection)
        self._writing = len(self._batch)
        self._batch = Batch(self.settings.batch_size, self.settings.batch_age_ms / 1000)

    def _finish(self) -> None:
        """On the way out: wait for the write in progress, write what is left once."""
        self._settle(self._writer.collect(timeout=None))
        if len(self._batch):
            self._submit()
            self._settle(self._writer.collect(timeout=None))
        self._writer.close()

    def _settle(self, written: Written | None) -> None:
        """Acknowledge and count a finished write, or hold its batch for a retry."""
        if written is None:
            return
        self._writing = 0
        same_connection = written.connection == self._connection
        if written.result is None:
            if same_connection:
                self._batch.absorb(written.batch)
            self._store_down(written.error)
            return
        self.metrics.write_seconds.observe(written.seconds)
        self._store_up()
        if same_connection:
            self._client.ack_many(written.batch.acks)
        self._count(written, written.result)
        self.health.last_flush = time.time()

    def _count(self, written: Written, result: WriteResult) -> None:
        batch = written.batch
        self.metrics.batch_size.observe(len(batch))
        written_ns = time.time_ns()
        # An evenly spaced sample: observing every reading costs more than decoding it.
        readings = batch.readings
        for reading in readings[:: 1 + len(readings) // _LAG_SAMPLES_PER_BATCH]:
            self.metrics.lag_seconds.observe((written_ns - reading.ts_ns) / 1e9)
        self.metrics.stored.inc(result.stored)
        self.metrics.duplicates.inc(result.duplicates)
        self.metrics.deadletters_pruned.inc(written.pruned)
        for rejection in written.deadletters:
            self.metrics.rejected.labels(rejection.reason.value).inc()
            self.metrics.deadletter_cut_bytes.inc(rejection.cut)
            if self.settings.deadletter_publish:
                self._client.publish(
                    topics.deadletter(rejection.reason.value), rejection.payload, qos=0
                )

    def _store_down(self, error: str) -> None:
        delay = self._store_backoff.next_delay()
        self._store_retry_at = time.monotonic() + delay
        if self.health.store_up:
            log.error(
                "store unavailable (%s); holding %d messages unacknowledged",
                error,
                self._unacked(),
            )
        self.health.store_up = False
        self.health.last_error = error
        self.metrics.store_up.set(0)

    def _store_up(self) -> None:
        if not self.health.store_up:
            log.info("store is back; resuming")
        self.health.store_up = True
        self.health.last_error = ""
        self.metrics.store_up.set(1)
        self._store_backoff.reset()
        self._store_retry_at = 0.0
