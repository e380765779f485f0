"""Dead letters kept within bounds: each payload cut to a size, the table pruned by age
and by rows. Prometheus counters keep the full totals whatever is pruned."""

from __future__ import annotations

import dataclasses
import logging
import time

from territory.readings import Rejection
from territory.settings import DeadLetterSettings
from territory.store import Store, StoreRejected, StoreUnavailable

log = logging.getLogger("ingest")

# Pruning deletes rows (tombstones in InfluxDB): once a minute, or sooner when a tenth of
# the cap has been written since, is enough to hold the table near its cap.
PRUNE_EVERY_S = 60.0


def bounded(rejection: Rejection, max_bytes: int) -> Rejection:
    """The rejection with its payload cut to `max_bytes`, the cut noted and counted."""
    payload = rejection.payload
    if len(payload) <= max_bytes:
        return rejection
    end = max_bytes
    # Cut on a character boundary, so that a UTF-8 payload stays readable text.
    while end > 0 and payload[end] & 0xC0 == 0x80:
        end -= 1
    note = f"payload cut to its first {end} of {len(payload)} bytes"
    return dataclasses.replace(
        rejection,
        payload=payload[:end],
        detail=f"{rejection.detail}; {note}" if rejection.detail else note,
        cut=len(payload) - end,
    )


class DeadLetterPruner:
    """Removes dead letters past their retention or beyond the cap, now and then."""

    def __init__(self, store: Store, settings: DeadLetterSettings) -> None:
        self._store = store
        self._settings = settings
        self._next_at = 0.0  # the first write prunes what earlier runs left
        self._written = 0

    def after_write(self, dead_letters: int) -> int:
        """Count `dead_letters` just written; prune when due. Returns how many were removed."""
        self._written += dead_letters
        now = time.monotonic()
        if now < self._next_at and self._written < max(1, self._settings.max_rows // 10):
            return 0
        self._next_at = now + PRUNE_EVERY_S
        self._written = 0
        before_ns = time.time_ns() - self._settings.retention_s * 1_000_000_000
        try:
            return self._store.prune_deadletters(before_ns, self._settings.max_rows)
        except (StoreUnavailable, StoreRejected) as exc:
            # Not worth holding a batch for: the next prune catches up.
            log.warning("could not prune dead letters: %s", exc)
            return 0
