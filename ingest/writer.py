"""The store writes of one worker, on a thread of their own.

While one batch is being written the next one fills: a worker no longer stops
reading from the broker for the length of every write, which for InfluxDB is a
round trip of tens of milliseconds. At most one batch is in the writer at a time,
so memory stays bounded by what the worker holds unacknowledged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from ingest.batch import Batch
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


class BatchWriter:
    """Writes one batch at a time on a background thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
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
            result, error = self._write(batch)
            seconds = time.perf_counter() - started
            self._done.put(Written(batch, connection, result, error, seconds))

    def _write(self, batch: Batch) -> tuple[WriteResult | None, str]:
        try:
            result = (
                self._store.write(batch.readings)
                if batch.readings
                else WriteResult(stored=0, duplicates=0)
            )
            if batch.rejections:
                self._store.write_rejects(batch.rejections)
        except StoreUnavailable as exc:
            return None, str(exc)
        except Exception as exc:
            # A store fault we did not foresee: held and retried like an outage, and said.
            log.exception("store write failed")
            return None, f"{type(exc).__name__}: {exc}"
        return result, ""
