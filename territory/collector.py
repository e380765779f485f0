"""Python's garbage collector set for a long-running service that answers queries.

A history of one device over a month is some 3,000 rollups: tens of thousands of small
objects made and dropped in a few milliseconds. With the collector's default thresholds
that many allocations set off collections of the older generations, each a walk over
every object the process holds, and those walks, not the query, make its slowest answers
(one device over 30 days at 15 minutes, `bench/store.py`: p99 186 ms with the defaults,
58 ms tuned). So a service, once started:
- moves what it loaded at start (modules, settings, the inventory) out of the
  collector's sight for good (`gc.freeze`): it lives as long as the process;
- collects the youngest generation every 100,000 allocations rather than 700, and the
  older ones more rarely still. Reference counting frees almost everything at once
  anyway; the collector is only there for cycles, which a query makes few of.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 100_000
MIDDLE_THRESHOLD = 50
OLD_THRESHOLD = 100


def tune_collector() -> None:
    """Freeze what the process holds now and raise the collection thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
