"""Open usage indicators at /opendata, for anyone: a DCAT-AP catalogue, each dataset's
metadata, and its cells as JSON or CSV over a period of whole hours."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from dashboard.console import Console, console_of
from dashboard.opendata.common import (
    OpenData,
    base_url,
    blocking,
    inventory_of,
    opendata_of,
    public,
)
from dashboard.opendata.config import OpenDataConfig
from dashboard.opendata.indicators import HOUR_S, INDICATORS, Indicator, compute, hour_of
from dashboard.reader import StoreReader
from territory.inventory import Inventory
from territory.readings import Reading

router = APIRouter(
    prefix="/opendata", tags=["open data: indicators"], dependencies=[Depends(public)]
)

_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/HOURLY"
_THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
_CACHE_S = 300
_CACHED_TABLES = 64


def rfc3339(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat().replace("+00:00", "Z")


def metadata(
    indicator: Indicator, config: OpenDataConfig, base: str, territory: str
) -> dict[str, Any]:
    """The dataset's DCAT-AP description, as a national portal harvests it."""
    url = f"{base}/opendata/{indicator.id}"
    return {
        "@type": "dcat:Dataset",
        "dct:identifier": indicator.id,
        "dct:title": indicator.title,
        "dct:description": indicator.description
        + f" Cells of fewer than {config.privacy.k} households' devices are suppressed.",
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": config.publisher.name},
        "dcat:contactPoint": {
            "@type": "vcard:Kind",
            "vcard:hasEmail": f"mailto:{config.publisher.email}",
        },
        "dct:license": config.licence.url,
        "dct:accessRights": "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
        "dct:accrualPeriodicity": _FREQUENCY,
        "dcat:theme": [_THEMES + indicator.theme],
        "dcat:keyword": list(indicator.keywords),
        "dct:spatial": territory,
        "dcat:temporalResolution": "PT1H",
        "dcat:landingPage": f"{url}/metadata.json",
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dcat:accessURL": f"{url}.{extension}",
                "dcat:mediaType": media,
                "dct:format": extension.upper(),
                "dct:license": config.licence.url,
            }
            for extension, media in (("json", "application/json"), ("csv", "text/csv"))
        ],
        "columns": [
            {"name": c.name, "description": c.description, **({"unit": c.unit} if c.unit else {})}
            for c in indicator.columns
        ],
    }


@router.get("/catalog.json", summary="DCAT-AP catalogue of the open datasets")
async def catalog(
    request: Request,
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
) -> JSONResponse:
    config = opendata.config
    base = base_url(request, config)
    body = {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "vcard": "http://www.w3.org/2006/vcard/ns#",
        },
        "@type": "dcat:Catalog",
        "dct:title": f"{config.publisher.name}: open usage indicators of {inventory.name}",
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": config.publisher.name},
        "dct:license": config.licence.url,
        "dcat:dataset": [
            metadata(indicator, config, base, inventory.name) for indicator in INDICATORS.values()
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": f"public, max-age={_CACHE_S}"})


def _indicator(dataset: str) -> Indicator:
    indicator = INDICATORS.get(dataset)
    if indicator is None:
        raise HTTPException(404, f"no dataset {dataset!r}: see /opendata/catalog.json")
    return indicator


@router.get("/{dataset}/metadata.json", summary="One dataset's DCAT-AP metadata")
async def dataset_metadata(
    dataset: str,
    request: Request,
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
) -> JSONResponse:
    indicator = _indicator(dataset)
    body = metadata(indicator, opendata.config, base_url(request, opendata.config), inventory.name)
    return JSONResponse(body, headers={"Cache-Control": f"public, max-age={_CACHE_S}"})


@router.get("/{dataset}.json", summary="A dataset's cells, JSON")
async def dataset_json(
    dataset: str,
    request: Request,
    start: str | None = Query(None, description="First hour, RFC 3339 (default: 24 h ago)."),
    end: str | None = Query(None, description="End, RFC 3339, excluded (default: this hour)."),
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
    console: Console = Depends(console_of),
) -> JSONResponse:
    indicator = _indicator(dataset)
    first, last = _period(start, end, opendata.config)
    cells = await _cells(indicator, inventory, console.reader, first, last, opendata)
    body = {
        "metadata": metadata(
            indicator, opendata.config, base_url(request, opendata.config), inventory.name
        )
        | {"dct:temporal": {"dcat:startDate": rfc3339(first), "dcat:endDate": rfc3339(last)}},
        "rows": cells,
    }
    return JSONResponse(body, headers={"Cache-Control": f"public, max-age={_CACHE_S}"})


@router.get("/{dataset}.csv", summary="A dataset's cells, CSV")
async def dataset_csv(
    dataset: str,
    start: str | None = Query(None, description="First hour, RFC 3339 (default: 24 h ago)."),
    end: str | None = Query(None, description="End, RFC 3339, excluded (default: this hour)."),
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
    console: Console = Depends(console_of),
) -> Response:
    indicator = _indicator(dataset)
    first, last = _period(start, end, opendata.config)
    cells = await _cells(indicator, inventory, console.reader, first, last, opendata)
    names = [column.name for column in indicator.columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for cell in cells:
        writer.writerow({name: "" if cell.get(name) is None else cell[name] for name in names})
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": f"public, max-age={_CACHE_S}",
            "Content-Disposition": f'inline; filename="{indicator.id}.csv"',
        },
    )


def _period(start: str | None, end: str | None, config: OpenDataConfig) -> tuple[int, int]:
    """[first hour, end) in whole hours; by default the last 24 hours up to this one."""
    now = time.time()
    last = hour_of(_time(end, "end")) if end else hour_of(now) + HOUR_S
    first = hour_of(_time(start, "start")) if start else last - 24 * HOUR_S
    if last <= first:
        raise HTTPException(400, "end must be after start")
    if last - first > config.indicator_max_days * 86400:
        raise HTTPException(400, f"a request covers at most {config.indicator_max_days} days")
    return first, last


def _time(text: str, name: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(400, f"{name} is not RFC 3339: {text!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


async def _cells(
    indicator: Indicator,
    inventory: Inventory,
    reader: StoreReader,
    first: int,
    last: int,
    opendata: OpenData,
) -> list[dict[str, Any]]:
    """The table, from the cache while it is fresh: public requests must not each read
    hours of history."""
    key = (indicator.id, first, last)
    now = time.monotonic()
    cached = opendata.tables.get(key)
    if cached is not None and cached[0] > now:
        return [dict(cell) for cell in cached[1]]
    cells = await _computed(indicator, inventory, reader, first, last, opendata.config)
    if len(opendata.tables) >= _CACHED_TABLES:
        opendata.tables.clear()
    opendata.tables[key] = (now + _CACHE_S, cells)
    return [dict(cell) for cell in cells]


async def _computed(
    indicator: Indicator,
    inventory: Inventory,
    reader: StoreReader,
    first: int,
    last: int,
    config: OpenDataConfig,
) -> list[dict[str, Any]]:
    devices = [d for kind in indicator.kinds for d in inventory.of_kind(kind)]
    # A charger's energy in the first hour needs its reading from just before it.
    margin = 900 if "ev_charger" in indicator.kinds else 0
    history: dict[str, list[Reading]] = {}
    for device in devices:
        history[device.id] = await blocking(
            reader.history, device.id, int((first - margin) * 1e9), int(last * 1e9)
        )
    cells = await asyncio.to_thread(
        compute, indicator, inventory, history, first, last, config.privacy
    )
    for cell in cells:
        cell["hour"] = rfc3339(cell["hour"])
    return cells
