"""InfluxDB backend over the v1-compatible HTTP API (`/write`, `/query`), which InfluxDB
1.x, 2.x (DBRP mapping, token auth) and 3.x all serve. Flux is not used.

A measurement per kind, device id and zone as tags, attributes as fields, seq as an
integer field, the device timestamp as the point's time: a redelivered reading is
the same point and overwrites itself. Raw readings go to the database's default
retention policy, `raw`; dead letters, plans and the audit log each to their own
(`territory.store.influx_retention`), rollups to `rollups` (`influx_rollups`).

A write InfluxDB refuses as invalid (`400`, such as a field type conflict) raises
StoreRejected, and so does a point line protocol cannot carry; anything else that
fails (unreachable, timed out, `5xx`, authentication) raises StoreUnavailable. Every
value that reaches an InfluxQL query is quoted (`territory.store.influxql`), and kinds,
zones and device ids are checked first: a query for one that cannot exist finds nothing.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from territory.identifiers import is_identifier
from territory.kinds import KINDS
from territory.readings import FieldValue, Reading, Rejection
from territory.store.base import (
    AuditEntry,
    Plan,
    StoreRejected,
    StoreStats,
    StoreUnavailable,
    WriteResult,
)
from territory.store.credentials import InfluxCredentials, influx_credentials
from territory.store.influx_retention import AUDIT, DEADLETTERS, PLANS, create_policies
from territory.store.influxql import identifier, integer, literal
from territory.store.lifecycle import LATE_AFTER_NS, MARK_NS
from territory.store.lineprotocol import LineProtocolError, line

log = logging.getLogger("store")

_PRECISION_NS = {"ns": 1, "u": 1_000, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_KIND_REGEX = "/^(" + "|".join(sorted(KINDS)) + ")$/"
_DEADLETTERS = "deadletter"
_PLANS = "plan"
# Dead letters and plans live in retention policies of their own: queries name them.
_DEADLETTERS_IN_POLICY = f"{identifier(DEADLETTERS)}.{identifier(_DEADLETTERS)}"
_PLANS_IN_POLICY = f"{identifier(PLANS)}.{identifier(_PLANS)}"
# The audit log: action and role as tags (a few values each); who and from where as fields,
# since a tag per client address would make a series per address an attacker cares to use.
_AUDIT = "audit"
_RECENT_AUDIT_STAMPS = 10_000
# What InfluxDB answers when it refuses the points themselves: 400 (unparsable line,
# field type conflict, partial write), 413 (body too large: a smaller one goes
# through), 422 (2.x: unprocessable points).
_REFUSED = frozenset({400, 413, 422})
# Keys recently written, so that redeliveries are counted as duplicates (InfluxDB
# itself collapses them silently by overwriting the point).
_RECENT_KEYS = 1_000_000
# Late marks (territory.store.lifecycle): a point per batch that has late readings, the
# marks as a JSON string field, at most this many per point.
LATE_MARKS = "late_mark"
_MARKS_PER_POINT = 2000


class InfluxStore:
    """Readings, dead letters, plans and the audit log in one InfluxDB database."""

    def __init__(
        self,
        base_url: str,
        database: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        precision: str = "ns",
        timeout_s: float = 10.0,
    ) -> None:
        if precision not in _PRECISION_NS:
            raise ValueError(f"precision must be one of {sorted(_PRECISION_NS)}, not {precision!r}")
        self.database = database
        self.precision = precision
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = (username, password or "") if username else None
        self._http = httpx.Client(base_url=base_url, headers=headers, auth=auth, timeout=timeout_s)
        self._recent: OrderedDict[tuple[str, int, int], None] = OrderedDict()
        self._audit_stamps: OrderedDict[int, None] = OrderedDict()  # recently used
        # Each writer's late marks are a series of their own: two writers marking in the
        # same nanosecond must not overwrite each other's point.
        self._writer = secrets.token_hex(4)
        # An unreachable server at start-up is retried by the writes, not fatal here.
        self._created = False
        with contextlib.suppress(StoreUnavailable):
            self._create_database()

    @classmethod
    def from_url(cls, url: str, credentials: InfluxCredentials | None = None) -> InfluxStore:
        """`influx://host:port/db[?precision=ns&tls=1]`; credentials from the environment
        (`territory.store.credentials`), never from the URL, which ends up in logs."""
        parts = urlsplit(url)
        database = parts.path.strip("/")
        if not parts.hostname or not database:
            raise ValueError("InfluxDB URL must look like influx://host:8086/db")
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.username or parts.password or "token" in query:
            raise ValueError(
                "the InfluxDB URL carries credentials: give them in TERRITORY_INFLUX_TOKEN_FILE"
                " (or TERRITORY_INFLUX_USERNAME and TERRITORY_INFLUX_PASSWORD_FILE) instead"
            )
        credentials = credentials or influx_credentials()
        scheme = "https" if query.get("tls") in ("1", "true") else "http"
        return cls(
            f"{scheme}://{parts.hostname}:{parts.port or 8086}",
            database,
            token=credentials.token,
            username=credentials.username,
            password=credentials.password,
            precision=query.get("precision", "ns"),
        )

    # -- writes ----------------------------------------------------------------

    def write(self, readings: Sequence[Reading]) -> WriteResult:
        scale = _PRECISION_NS[self.precision]
        try:
            lines = [
                line(
                    r.kind,
                    {"device_id": r.device_id, "zone": r.zone},
                    r.fields,
                    r.ts_ns // scale,
                    {"seq": r.seq, "arrival_ns": r.arrival_ns},
                )
                for r in readings
            ]
        except LineProtocolError as exc:
            raise StoreRejected(f"not written to InfluxDB: {exc}") from exc
        self._write(lines)
        # Nanoseconds whatever the store's precision: two marks must never share a time.
        self._write(self._late_mark_lines(readings), precision="ns")
        duplicates = self._remember((r.device_id, r.ts_ns, r.seq) for r in readings)
        return WriteResult(stored=len(readings) - duplicates, duplicates=duplicates)

    def _late_mark_lines(self, readings: Sequence[Reading]) -> list[str]:
        late_before = time.time_ns() - LATE_AFTER_NS
        marks = sorted(
            {(r.device_id, r.ts_ns - r.ts_ns % MARK_NS) for r in readings if r.ts_ns < late_before}
        )
        stamp = time.time_ns()
        return [
            line(
                LATE_MARKS,
                {"writer": self._writer},
                {"marks": json.dumps(marks[start : start + _MARKS_PER_POINT])},
                stamp + index,
            )
            for index, start in enumerate(range(0, len(marks), _MARKS_PER_POINT))
        ]

    def write_rejects(self, rejects: Sequence[Rejection]) -> None:
        lines = []
        previous = 0
        for reject in rejects:
            # Two rejects of one reason in the same nanosecond would be one point.
            stamp = max(reject.arrival_ns, previous + 1)
            previous = stamp
            payload, encoding = reject.payload_text()
            fields = {
                "topic": reject.topic,
                "payload": payload,
                "encoding": encoding,
                "detail": reject.detail,
            }
            try:
                lines.append(
                    line(
                        _DEADLETTERS,
                        {"reason": reject.reason.value},
                        fields,
                        stamp // _PRECISION_NS[self.precision],
                    )
                )
            except LineProtocolError as exc:
                raise StoreRejected(f"dead letter not written to InfluxDB: {exc}") from exc
        self._write(lines, policy=DEADLETTERS)

    def write_plan(self, plan: Plan) -> None:
        fields: dict[str, FieldValue] = {
            "status": plan.status,
            "body": json.dumps(plan.body),
            "created": plan.created,
        }
        stamp = int(plan.created * 1e9) // _PRECISION_NS[self.precision]
        try:
            point = line(_PLANS, {"domain": plan.domain}, fields, stamp)
        except LineProtocolError as exc:
            raise StoreRejected(f"plan not written to InfluxDB: {exc}") from exc
        self._write([point], policy=PLANS)

    def prune_deadletters(self, before_ns: int, keep: int) -> int:
        # DELETE takes no retention policy (it deletes from every one): the measurement alone.
        deleted = identifier(_DEADLETTERS)
        counted = self._count_deadletters()
        if not counted:
            return 0
        self._command(f"DELETE FROM {deleted} WHERE time < {integer(before_ns)}")
        # Over the cap: find the newest dead letter that goes, and everything older goes too.
        past_cap = self._query(
            f"SELECT detail FROM {_DEADLETTERS_IN_POLICY} ORDER BY time DESC"
            f" LIMIT 1 OFFSET {integer(keep)}"
        )
        if past_cap:
            oldest_kept = int(past_cap[0]["values"][0][0])
            self._command(f"DELETE FROM {deleted} WHERE time <= {integer(oldest_kept)}")
        return counted - self._count_deadletters()

    def _count_deadletters(self) -> int:
        series = self._query(f"SELECT count(detail) FROM {_DEADLETTERS_IN_POLICY}")
        return int(series[0]["values"][0][1]) if series else 0

    def append_audit(self, entry: AuditEntry) -> None:
        # Nanoseconds whatever the store's precision, and never two entries on the same
        # nanosecond: two entries of one action and role at the same time would be one point.
        stamp = int(entry.time * 1e9)
        while stamp in self._audit_stamps:
            stamp += 1
        self._audit_stamps[stamp] = None
        if len(self._audit_stamps) > _RECENT_AUDIT_STAMPS:
            self._audit_stamps.popitem(last=False)
        fields: dict[str, FieldValue] = {
            "at": entry.time,
            "actor": entry.actor,
            "client": entry.client,
            "detail": entry.detail,
        }
        tags = {"action": entry.action, "role": entry.role}
        self._write([line(_AUDIT, tags, fields, stamp)], precision="ns", policy=AUDIT)

    def _write(
        self, lines: list[str], precision: str | None = None, policy: str | None = None
    ) -> None:
        """Lines into the default retention policy (raw readings) or the one named."""
        if not lines:
            return
        if not self._created:
            self._create_database()
        try:
            text = "\n".join(lines).encode()
        except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 for it
            raise StoreRejected(f"not written to InfluxDB: {exc}") from exc
        params = {"db": self.database, "precision": precision or self.precision}
        if policy is not None:
            params["rp"] = policy
        response = self._request(
            "POST",
            "/write",
            params=params,
            content=gzip.compress(text, compresslevel=1),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"},
        )
        if response.status_code == 204:
            return
        if response.status_code == 400 and "beyond retention policy" in response.text:
            # The other points are written; these had aged out before they arrived, as
            # they would have a moment later: expired, not refused.
            log.info("InfluxDB expired on arrival: %s", response.text[:200])
            return
        message = f"InfluxDB refused the write ({response.status_code}): {response.text[:300]}"
        if response.status_code in _REFUSED:
            raise StoreRejected(message)
        raise StoreUnavailable(message)

    def _remember(self, keys: Iterable[tuple[str, int, int]]) -> int:
        duplicates = 0
        for key in keys:
            if key in self._recent:
                duplicates += 1
                self._recent.move_to_end(key)
            else:
                self._recent[key] = None
        while len(self._recent) > _RECENT_KEYS:
            self._recent.popitem(last=False)
        return duplicates

    # -- reads -----------------------------------------------------------------

    def latest(self, kind: str | None = None, zone: str | None = None) -> list[Reading]:
        if (kind is not None and kind not in KINDS) or (
            zone is not None and not is_identifier(zone)
        ):
            return []  # no reading of it can have been stored
        source = identifier(kind) if kind else _KIND_REGEX
        where = f" WHERE zone = {literal(zone)}" if zone else ""
        series = self._query(f"SELECT * FROM {source}{where} GROUP BY * ORDER BY time DESC LIMIT 1")
        readings = list(_readings(series))
        return sorted(readings, key=lambda r: (r.zone, r.kind, r.device_id))

    def history(self, device_id: str, start_ns: int, end_ns: int) -> list[Reading]:
        if not is_identifier(device_id):
            return []  # no reading of it can have been stored
        series = self._query(
            f"SELECT * FROM {_KIND_REGEX} WHERE device_id = {literal(device_id)}"
            f" AND time >= {integer(start_ns)} AND time < {integer(end_ns)} GROUP BY *"
        )
        return sorted(_readings(series), key=lambda r: (r.ts_ns, r.seq))

    def stats(self) -> StoreStats:
        counted = self._query(f"SELECT count(seq) FROM {_KIND_REGEX} GROUP BY device_id")
        readings = sum(int(s["values"][0][1]) for s in counted)
        devices = len({s["tags"]["device_id"] for s in counted})
        rejected = {
            s["tags"]["reason"]: int(s["values"][0][1])
            for s in self._query(
                f"SELECT count(detail) FROM {_DEADLETTERS_IN_POLICY} GROUP BY reason"
            )
        }
        return StoreStats(readings=readings, devices=devices, rejected=rejected)

    def plans(self, domain: str | None = None, limit: int = 20) -> list[Plan]:
        try:
            where = f" WHERE domain = {literal(domain)}" if domain else ""
        except ValueError:
            return []  # a NUL: no plan's domain holds one
        series = self._query(
            f"SELECT * FROM {_PLANS_IN_POLICY}{where} ORDER BY time DESC LIMIT {integer(limit)}"
        )
        found = []
        for s in series:
            columns = s["columns"]
            for row in s["values"]:
                record = dict(zip(columns, row, strict=True))
                found.append(
                    Plan(
                        domain=record["domain"],
                        created=record["created"],
                        status=record["status"],
                        body=json.loads(record["body"]),
                    )
                )
        return found

    def audit(self, since: float | None = None, limit: int = 100) -> list[AuditEntry]:
        where = f" WHERE time >= {int(since * 1e9)}" if since is not None else ""
        series = self._query(
            f'SELECT * FROM "{AUDIT}"."{_AUDIT}"{where} ORDER BY time DESC LIMIT {int(limit)}'
        )
        found = []
        for s in series:
            for row in s["values"]:
                record = dict(zip(s["columns"], row, strict=True))
                found.append(
                    AuditEntry(
                        time=record["at"],
                        action=record["action"],
                        actor=record["actor"] or "",
                        role=record.get("role") or "",
                        client=record["client"] or "",
                        detail=record["detail"] or "",
                    )
                )
        return found

    def close(self) -> None:
        self._http.close()

    # -- HTTP --------------------------------------------------------------------

    def _create_database(self) -> None:
        # InfluxDB 2.x/3.x refuse these (databases and policies come from buckets and
        # DBRP mappings); their refusal is not an error for us.
        self._request("POST", "/query", data={"q": f"CREATE DATABASE {identifier(self.database)}"})
        create_policies(self)
        self._created = True

    def _command(self, influxql: str) -> None:
        """A statement that changes data: InfluxDB takes those only by POST."""
        response = self._request("POST", "/query", data={"db": self.database, "q": influxql})
        if response.status_code != 200 or "error" in response.json()["results"][0]:
            raise StoreUnavailable(f"InfluxDB refused {influxql!r}: {response.text[:300]}")

    def statement(self, influxql: str, timeout_s: float | None = None) -> dict[str, Any]:
        """Run one statement by POST (any kind, any length): its result, with "error"
        when InfluxDB refused it."""
        response = self._request(
            "POST",
            "/query",
            data={"q": influxql, "db": self.database, "epoch": "ns"},
            **({"timeout": timeout_s} if timeout_s is not None else {}),
        )
        if response.status_code != 200:
            return {"error": f"({response.status_code}) {response.text[:300]}"}
        result: dict[str, Any] = response.json()["results"][0]
        return result

    def _query(self, influxql: str) -> list[dict[str, Any]]:
        response = self._request(
            "GET", "/query", params={"db": self.database, "q": influxql, "epoch": "ns"}
        )
        if response.status_code != 200:
            raise StoreUnavailable(
                f"InfluxDB query failed ({response.status_code}): {response.text[:300]}"
            )
        result = response.json()["results"][0]
        if "error" in result:
            raise StoreUnavailable(f"InfluxDB query failed: {result['error']}")
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        started = time.monotonic()
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            waited = time.monotonic() - started
            raise StoreUnavailable(
                f"InfluxDB at {self._http.base_url} unreachable after {waited:.1f} s: {exc}"
            ) from exc


def _readings(series: Iterable[dict[str, Any]]) -> Iterable[Reading]:
    for s in series:
        columns = s["columns"]
        tags = s.get("tags", {})
        for row in s["values"]:
            record = dict(zip(columns, row, strict=True))
            if record.get("seq") is None:
                # Not a whole reading: InfluxDB shows a point's fields as they land, so a
                # read beside a write may catch one half written. Read a moment later it
                # is whole; until then it has not arrived (and its late mark, written
                # after it, has the rollups that read it now computed again).
                continue
            record.update({k: v for k, v in tags.items() if v})
            ts_ns = int(record.pop("time"))
            seq = int(record.pop("seq"))
            arrival_ns = int(record.pop("arrival_ns", 0) or 0)
            device_id = record.pop("device_id")
            zone = record.pop("zone")
            yield Reading(
                kind=s["name"],
                zone=zone,
                device_id=device_id,
                ts_ns=ts_ns,
                seq=seq,
                fields=_typed_fields(s["name"], record),
                arrival_ns=arrival_ns,
            )


def _typed_fields(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """Fields as the kind's model types them (InfluxDB hands every number back as a float)."""
    model_fields = KINDS[kind].model_fields
    typed = {}
    for name, value in record.items():
        if value is None:
            continue
        annotation = model_fields[name].annotation if name in model_fields else None
        typed[name] = int(value) if annotation is int and isinstance(value, float) else value
    return typed
