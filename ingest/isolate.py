"""Writes that isolate what the store refuses, so that nothing waits on it for ever.

InfluxDB refuses a whole write for one point it cannot take (`400`) and SQLite rolls
back a whole transaction for one constraint. Retrying such a batch would fail for
ever and hold every message in it unacknowledged; so a refused batch is split in two,
and each half written or split again, until each refused reading stands alone. The
others are written; each refused one becomes a `store_rejected` dead letter with the
store's message. k refused readings among n cost about 2·k·log2(n) extra writes.

A store that is unavailable (StoreUnavailable) stops all this: the caller holds the
whole batch and retries it later, and what was already written is written again as a
duplicate, which the store collapses.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from territory.readings import Reading, Rejection
from territory.store import Store, StoreRejected, StoreUnavailable, WriteResult


@dataclass(frozen=True, slots=True)
class Refusal:
    """A reading the store refused on its own, and the store's message."""

    index: int
    message: str


def write_readings(store: Store, readings: Sequence[Reading]) -> tuple[WriteResult, list[Refusal]]:
    """Write every reading the store takes; return what it did and what it refused."""
    stored = duplicates = 0
    refused: list[Refusal] = []
    pending = [(0, len(readings))] if readings else []
    while pending:
        start, end = pending.pop()
        part = readings if (start, end) == (0, len(readings)) else readings[start:end]
        try:
            result = store.write(part)
        except StoreRejected as exc:
            if end - start == 1:
                refused.append(Refusal(start, str(exc)))
            else:
                middle = (start + end) // 2
                pending += [(middle, end), (start, middle)]  # the first half goes first
            continue
        stored += result.stored
        duplicates += result.duplicates
    return WriteResult(stored=stored, duplicates=duplicates), refused


def write_deadletters(store: Store, rejects: Sequence[Rejection]) -> None:
    """Write dead letters the same way; one refused alone is written again in a plain
    form (ASCII text, payload in base64). A store that refuses even that is unusable:
    StoreUnavailable, and the batch waits."""
    pending = [list(rejects)] if rejects else []
    while pending:
        part = pending.pop()
        try:
            store.write_rejects(part)
        except StoreRejected as exc:
            if len(part) > 1:
                middle = len(part) // 2
                pending += [part[middle:], part[:middle]]
                continue
            try:
                store.write_rejects([_plain(part[0], str(exc))])
            except StoreRejected as again:
                message = f"the store refuses even a plain dead letter: {again}"
                raise StoreUnavailable(message) from again


def _plain(rejection: Rejection, refusal: str) -> Rejection:
    """The rejection in a form any store takes: ASCII only, the payload in base64 (which
    its detail says, since base64 is ASCII and reads back as text)."""

    def ascii_only(text: str) -> str:
        return text.encode("ascii", "backslashreplace").decode("ascii")

    refused = f"payload in base64, text escaped: the store refused it as it came ({refusal})"
    return dataclasses.replace(
        rejection,
        topic=ascii_only(rejection.topic),
        payload=base64.b64encode(rejection.payload) if rejection.payload else b"",
        detail=ascii_only(f"{rejection.detail}; {refused}"),
    )
