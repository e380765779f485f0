"""One page's server-sent event stream over the shared live feed.

The first event is a `snapshot` of the whole state, unless the page says (Last-Event-ID
header, or `?since=`) which batch it saw last and that batch is still in the ring, in
which case it gets only what it missed. After that it gets one `update` per new batch,
never more often than `min_interval_s`: batches that arrive meanwhile are merged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from dashboard.live import LiveFeed

KEEPALIVE_WAIT_S = 15.0


def _event(kind: str, body: dict[str, Any]) -> dict[str, str]:
    return {"event": kind, "id": str(body["version"]), "data": json.dumps(body)}


async def page_events(
    feed: LiveFeed, since: int | None, min_interval_s: float
) -> AsyncIterator[dict[str, str]]:
    """Events for one page until it disconnects (the server then cancels this generator)."""
    delta = feed.delta_since(since) if since is not None else None
    if delta is None:
        snapshot = feed.snapshot()
        yield _event("snapshot", snapshot)
        seen = int(snapshot["version"])
    else:
        if len(delta) > 1:
            yield _event("update", delta)
        seen = int(delta["version"])
    while True:
        if not await feed.wait_beyond(seen, KEEPALIVE_WAIT_S):
            continue  # sse-starlette sends its own keep-alive pings meanwhile
        delta = feed.delta_since(seen)
        if delta is None:
            snapshot = feed.snapshot()
            yield _event("snapshot", snapshot)
            seen = int(snapshot["version"])
        else:
            yield _event("update", delta)
            seen = int(delta["version"])
        await asyncio.sleep(min_interval_s)


def parse_since(last_event_id: str | None, since: int | None) -> int | None:
    """The batch number a reconnecting page saw last, from the header or the query."""
    if last_event_id:
        try:
            return int(last_event_id)
        except ValueError:
            return None
    return since
