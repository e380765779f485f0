"""The store writes of one worker, on a thread of their own.

While one batch is being written the next one fills: a worker no longer stops
reading from the broker for the length of every write, which for InfluxDB is a
round trip of tens of milliseconds. At most one batch is in the writer at a time,
so memory stays bounded by what the worker holds unacknowledged.

What the store refuses as invalid is isolated and dead-lettered (`ingest.isolate`);
only an unavailable store leaves a batch unwritten, to be retried.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from ingest.batch import Batch
from ingest.deadletters import DeadLetterPruner, bounded
from ingest.isolate import Refusal, write_deadletters, write_readings
from territory.readings import Rejection, RejectReason
from territory.settings import DeadLetterSettings
from territory.store import Store, StoreUnavailable, WriteResult

log = logging.getLogger("ingest")


@dataclass(frozen=True, slots=True)
class Written:
    """What became of one batch handed to the writer."""

    batch: Batch
    connection: int
    """The broker connection its messages came on: their ids mean nothing on another."""
    result: WriteResult | None
    """None when the store was unavailable (then `error` says why)."""
    error: str
    seconds: float
    deadletters: list[Rejection] = field(default_factory=list)
    """Every dead letter written: the batch's own and those the store refused."""
    pruned: int = 0
    """Old dead letters removed after this write."""


class BatchWriter:
    """Writes one batch at a time on a background thread."""

    def __init__(self, store: Store, deadletters: DeadLetterSettings | None = None) -> None:
        self._store = store
        self._limits = deadletters or DeadLetterSettings()
        self._pruner = DeadLetterPruner(store, self._limits)
        self._jobs: queue.Queue[tuple[Batch, int] | None] = queue.Queue(maxsize=1)
        self._done: queue.SimpleQueue[Written] = queue.SimpleQueue()
        self._busy = False
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._busy

    def submit(self, batch: Batch, connection: int) -> None:
        if self._busy:
            raise RuntimeError("the writer takes one batch at a time")
        self._busy = True
        self._jobs.put((batch, connection))

    def collect(self, timeout: float | None = 0.0) -> Written | None:
        """The finished write, if any (waiting up to `timeout`; None waits for it)."""
        if not self._busy:
            return None
        try:
            written = self._done.get(timeout=timeout)
        except queue.Empty:
            return None
        self._busy = False
        return written

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(30)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            batch, connection = job
            started = time.perf_counter()
            written = self._write(batch, connection)
            seconds = time.perf_counter() - started
            self._done.put(dataclasses.replace(written, seconds=seconds))

    def _write(self, batch: Batch, connection: int) -> Written:
        try:
            result, refused = write_readings(self._store, batch.readings)
            deadletters = batch.rejections + self._refused(batch, refused)
            write_deadletters(self._store, deadletters)
        except StoreUnavailable as exc:
            return Written(batch, connection, None, str(exc), 0.0)
        except Exception as exc:
            # A store fault we did not foresee: held and retried like an outage, and said.
            log.exception("store write failed")
            return Written(batch, connection, None, f"{type(exc).__name__}: {exc}", 0.0)
        pruned = self._pruner.after_write(len(deadletters))
        return Written(batch, connection, result, "", 0.0, deadletters, pruned)

    def _refused(self, batch: Batch, refused: list[Refusal]) -> list[Rejection]:
        """One `store_rejected` dead letter per message with a refused reading."""
        by_source: dict[int, list[Refusal]] = {}
        for refusal in refused:
            by_source.setdefault(batch.source_of(refusal.index), []).append(refusal)
        deadletters = []
        for source, refusals in by_source.items():
            _, topic, payload = batch.sources[source]
            detail = refusals[0].message
            if len(refusals) > 1:
                detail += f" (and {len(refusals) - 1} more readings of this message)"
            arrival_ns = batch.readings[refusals[0].index].arrival_ns
            rejection = Rejection(RejectReason.STORE_REJECTED, topic, payload, arrival_ns, detail)
            deadletters.append(bounded(rejection, self._limits.payload_max_bytes))
        return deadletters
