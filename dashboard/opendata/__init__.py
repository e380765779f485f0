"""Open data from the console: GBFS 3.0 and usage indicators for anyone (rate-limited),
a read-only NGSI-LD API and the discovered devices for token holders."""

from __future__ import annotations

from fastapi import FastAPI

from dashboard.opendata import datasets, discovered, gbfs, ngsi_ld
from dashboard.opendata.common import OpenData
from dashboard.opendata.config import OpenDataConfig
from dashboard.throttle import TokenBuckets


def include_opendata(app: FastAPI, config: OpenDataConfig) -> None:
    """Serve the open-data routes from `app`, under the rules of `config`."""
    app.state.opendata = OpenData(config=config, buckets=TokenBuckets(config.public_rate_limit))
    for module in (gbfs, ngsi_ld, datasets, discovered):
        app.include_router(module.router)
