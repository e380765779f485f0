"""The bridge's clock: the wall clock, unless a simulation runs the bridge on its own time.

Every epoch instant the bridge reasons with (a set-point's validity, a profile's start and
duration, a reading's time, the base load's hour) is read here. A compare run of the twin
(`territory simulate --compare --ocpp`) runs a bridge in its own process on the twin's
virtual clock through `driven_by`; `territory ocpp` never changes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_source: Callable[[], float] = time.time


def now() -> float:
    """Epoch seconds, as the bridge sees them."""
    return _source()


@contextmanager
def driven_by(source: Callable[[], float]) -> Iterator[None]:
    """Run the bridge on `source` (epoch seconds) instead of the wall clock, for a while."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
