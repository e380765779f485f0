"""A read-only NGSI-LD API (ETSI GS CIM 009) over the inventory and the store, behind a
viewer token: entities, one entity, entity types, and an entity's history (temporal API).

Answers are JSON with the @context in a Link header, or JSON-LD with the @context in the
body when the client accepts application/ld+json. Errors are NGSI-LD problem details.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from dashboard.access import viewer
from dashboard.console import Console, console_of
from dashboard.opendata import entities, query
from dashboard.opendata.common import OpenData, blocking, inventory_of, opendata_of
from territory.inventory import Device, Inventory
from territory.readings import Reading

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD"], dependencies=[Depends(viewer)])

_ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
_LINK = f'<{entities.SDM_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
_DAY_S = 86400.0


class NgsiError(Exception):
    """An NGSI-LD problem: BadRequestData (400), ResourceNotFound (404)."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail

    def response(self) -> JSONResponse:
        body = {"type": _ERRORS + self.kind, "title": self.kind, "detail": self.detail}
        return JSONResponse(body, status_code=self.status, media_type="application/problem+json")


def bad_request(detail: str) -> NgsiError:
    return NgsiError(400, "BadRequestData", detail)


def _answer(
    request: Request,
    body: Any,
    headers: dict[str, str] | None = None,
    links: list[str] | None = None,
) -> JSONResponse:
    """JSON-LD with the @context inside, or JSON with it in a Link header (beside the
    pages' next and prev links)."""
    headers = dict(headers or {})
    links = list(links or [])
    if "application/ld+json" in request.headers.get("accept", ""):
        if isinstance(body, list):
            body = [{**item, "@context": entities.CONTEXT} for item in body]
        elif isinstance(body, dict):
            body = {**body, "@context": entities.CONTEXT}
        if links:
            headers["Link"] = ", ".join(links)
        return JSONResponse(body, headers=headers, media_type="application/ld+json")
    headers["Link"] = ", ".join([_LINK, *links])
    return JSONResponse(body, headers=headers)


def _published(inventory: Inventory, opendata: OpenData) -> list[Device]:
    """The devices the API shows: household ones only when configured so."""
    rules = opendata.config
    return [
        device
        for device in sorted(inventory.by_id.values(), key=lambda d: d.id)
        if device.kind in entities.ENTITY_TYPES
        and (
            rules.ngsi_ld.include_household
            or not rules.privacy.is_household(device.id, device.kind)
        )
    ]


def _split(text: str | None) -> set[str] | None:
    return {part.strip() for part in text.split(",") if part.strip()} if text else None


@router.get("/entities", summary="Entities by type, id, q; paginated")
async def query_entities(
    request: Request,
    type: str | None = Query(None, description="Entity types, comma-separated."),
    id: str | None = Query(None, description="Entity ids, comma-separated."),
    idPattern: str | None = Query(None, description="Regular expression on entity ids."),
    q: str | None = Query(None, description="Query on attribute values (NGSI-LD q)."),
    attrs: str | None = Query(None, description="Attributes to return, comma-separated."),
    limit: int = Query(20, ge=0, description="Entities per page."),
    offset: int = Query(0, ge=0, description="Entities to skip."),
    count: bool = Query(False, description="Send the total in NGSILD-Results-Count."),
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
    console: Console = Depends(console_of),
) -> JSONResponse:
    try:
        if not any((type, id, idPattern, q, attrs)):
            raise bad_request("give at least one of type, id, idPattern, q or attrs")
        if limit > opendata.config.ngsi_ld.max_limit:
            raise bad_request(f"limit is at most {opendata.config.ngsi_ld.max_limit}")
        candidates = _candidates(_published(inventory, opendata), type, id, idPattern)
        parsed = query.parse(q) if q else None
    except query.QueryError as exc:
        return bad_request(str(exc)).response()
    except NgsiError as exc:
        return exc.response()
    readings: list[Reading] = await blocking(console.reader.latest_of, [d.id for d in candidates])
    latest = {r.device_id: r for r in readings}
    found = [entities.entity(d, latest.get(d.id), opendata.config) for d in candidates]
    if parsed is not None:
        found = [e for e in found if query.matches(parsed, partial(entities.attribute_value, e))]
    wanted = _split(attrs)
    if wanted is not None:
        found = [e for e in found if wanted & set(e)]
        found = [_only(e, wanted) for e in found]
    page = found[offset : offset + limit]
    headers = {"NGSILD-Results-Count": str(len(found))} if count else {}
    return _answer(request, page, headers, _page_links(request, offset, limit, len(found)))


def _candidates(
    devices: list[Device], types: str | None, ids: str | None, pattern: str | None
) -> list[Device]:
    wanted_types, wanted_ids = _split(types), _split(ids)
    try:
        id_pattern = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise bad_request(f"idPattern is not a regular expression: {exc}") from exc
    found = []
    for device in devices:
        entity = entities.entity_id(device)
        if wanted_types is not None and entities.ENTITY_TYPES[device.kind] not in wanted_types:
            continue
        if wanted_ids is not None and entity not in wanted_ids:
            continue
        if id_pattern is not None and not id_pattern.search(entity):
            continue
        found.append(device)
    return found


def _only(entity: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k in ("id", "type") or k in wanted}


def _page_links(request: Request, offset: int, limit: int, total: int) -> list[str]:
    links = []
    if limit and offset + limit < total:
        links.append(f'<{request.url.include_query_params(offset=offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(
            f'<{request.url.include_query_params(offset=max(0, offset - limit))}>; rel="prev"'
        )
    return links


def _device(entity_id: str, inventory: Inventory, opendata: OpenData) -> Device:
    device_id = entities.device_of_entity(entity_id)
    device = inventory.device(device_id) if device_id else None
    if (
        device is None
        or device not in _published(inventory, opendata)
        or entities.entity_id(device) != entity_id
    ):
        raise NgsiError(404, "ResourceNotFound", f"no entity {entity_id}")
    return device


@router.get("/entities/{entity_id}", summary="One entity")
async def retrieve_entity(
    entity_id: str,
    request: Request,
    attrs: str | None = Query(None, description="Attributes to return, comma-separated."),
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
    console: Console = Depends(console_of),
) -> JSONResponse:
    try:
        device = _device(entity_id, inventory, opendata)
    except NgsiError as exc:
        return exc.response()
    readings: list[Reading] = await blocking(console.reader.latest_of, [device.id])
    found = entities.entity(device, readings[0] if readings else None, opendata.config)
    wanted = _split(attrs)
    return _answer(request, _only(found, wanted) if wanted else found)


@router.get("/types", summary="The entity types present")
async def entity_types(
    request: Request,
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
) -> JSONResponse:
    present = sorted({entities.ENTITY_TYPES[d.kind] for d in _published(inventory, opendata)})
    body = {
        "id": "urn:ngsi-ld:EntityTypeList:soft-territory",
        "type": "EntityTypeList",
        "typeList": present,
    }
    return _answer(request, body)


@router.get("/temporal/entities/{entity_id}", summary="An entity's history (temporal API)")
async def temporal_entity(
    entity_id: str,
    request: Request,
    timerel: Literal["before", "after", "between"] | None = Query(
        None, description="before, after or between timeAt (and endTimeAt)."
    ),
    timeAt: str | None = Query(None, description="RFC 3339 time."),
    endTimeAt: str | None = Query(None, description="RFC 3339 end time, with between."),
    attrs: str | None = Query(None, description="Attributes to return, comma-separated."),
    lastN: int | None = Query(None, gt=0, description="Only the last N instances."),
    opendata: OpenData = Depends(opendata_of),
    inventory: Inventory = Depends(inventory_of),
    console: Console = Depends(console_of),
) -> JSONResponse:
    try:
        device = _device(entity_id, inventory, opendata)
        start_s, end_s = _window(timerel, timeAt, endTimeAt)
    except NgsiError as exc:
        return exc.response()
    readings: list[Reading] = await blocking(
        console.reader.history, device.id, int(start_s * 1e9), int(end_s * 1e9)
    )
    most = opendata.config.ngsi_ld.max_limit
    readings = readings[-min(lastN or most, most) :]
    return _answer(request, entities.temporal(device, readings, _split(attrs), opendata.config))


def _window(timerel: str | None, time_at: str | None, end_at: str | None) -> tuple[float, float]:
    """[start, end) in epoch seconds; without timerel, the last day."""
    now = time.time()
    if timerel is None:
        return now - _DAY_S, now + 1
    if time_at is None:
        raise bad_request("timerel needs timeAt")
    at = _time(time_at, "timeAt")
    if timerel == "before":
        return 0.0, at
    if timerel == "after":
        return at, now + 1
    if end_at is None:
        raise bad_request("timerel=between needs endTimeAt")
    end = _time(end_at, "endTimeAt")
    if end <= at:
        raise bad_request("endTimeAt must be after timeAt")
    return at, end


def _time(text: str, name: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request(f"{name} is not RFC 3339: {text!r}") from exc
    if parsed.tzinfo is None:
        raise bad_request(f"{name} needs an offset or Z: {text!r}")
    return parsed.timestamp()
