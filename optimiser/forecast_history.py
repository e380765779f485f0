"""The forecasts' history: an attribute's mean per bin over weeks, read from the store's
rollups where it has them and from raw readings for the rest (territory.store.history),
so that a profile of four weeks is some 2,700 rollups a device, not 40,000 readings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from territory.settings import RollupSettings, load_settings
from territory.store import Store
from territory.store.history import means


@functools.cache
def _rollup_settings() -> RollupSettings:
    return load_settings().rollups


def binned(
    store: Store, device_id: str, attribute: str, start_ns: int, end_ns: int, bin_s: float
) -> Iterator[tuple[float, float, int]]:
    """(bin start in epoch s, sum of the values, how many) of each bin with a value;
    every reading in [start_ns, end_ns) counted once, whatever the source."""
    if not float(bin_s).is_integer() or bin_s < 1:
        for r in store.history(device_id, start_ns, end_ns):
            value = r.fields.get(attribute)
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield r.ts, float(value), 1
        return
    settings = _rollup_settings()
    for start, count, mean in means(
        store, device_id, attribute, start_ns, end_ns, int(bin_s), settings
    ):
        yield start / 1e9, mean * count, count
