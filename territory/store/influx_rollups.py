"""Rollups in InfluxDB, computed by the project (not continuous queries, which InfluxDB 3
does not have), read with InfluxQL and written as line protocol over the v1 API.

A rollup is a point of measurement `rollup` in retention policy `rollups`, at its bin's
start, tagged with the device and the bin length (seconds): computing it again writes
the same point, which replaces it. Its fields:

- `n`: readings in the bin (0 where only a state carried in fills it);
- `gone`: true for a bin computed again and found empty (points cannot be deleted
  through the v1 API of every version): readers skip it;
- `kind`, `zone`;
- per numeric attribute A: `A.count`, `A.mean`, `A.min`, `A.max`, `A.last`, `A.last_ns`;
- per state attribute S and each state X the contract allows: `S=X`, seconds in it
  (every state written, zeros too, so that a state no longer held is overwritten).

The engine's watermarks are points of `rollup_state` (tag `name`) in the same policy.
Late marks are points of `late_mark` in `raw`, read from where the last pass stopped
(less `SETTLE_NS`, for writers whose clocks lag).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from territory.kinds import KINDS
from territory.readings import FieldValue, Reading
from territory.store.base import StoreUnavailable
from territory.store.influx import LATE_MARKS, InfluxStore, _readings
from territory.store.influx_retention import RAW, ROLLUPS, duration_ns, policy_durations
from territory.store.influxql import literal
from territory.store.lifecycle import SETTLE_NS, DeviceGroup, LateMarks
from territory.store.lineprotocol import line
from territory.store.rollups import Rollup, Summary, state_options

ROLLUP = "rollup"
STATE = "rollup_state"
_KIND_REGEX = "/^(" + "|".join(sorted(KINDS)) + ")$/"
_NUMBER_PARTS = ("count", "mean", "min", "max", "last", "last_ns")
_LATE_READ_TO = "late_read_to"
_QUERY_TIMEOUT_S = 300.0


class InfluxRollups:
    """The rollup engine's view of an InfluxDB store (`territory.store.lifecycle`)."""

    def __init__(self, store: InfluxStore) -> None:
        self.store = store
        self._first_raw: int | None = None

    # -- watermarks and raw readings ---------------------------------------------------

    def watermark(self, name: str) -> int | None:
        series = self._select(
            f'SELECT last("value") FROM "{ROLLUPS}"."{STATE}" WHERE "name" = {literal(name)}'
        )
        return int(series[0]["values"][0][1]) if series else None

    def set_watermark(self, name: str, value: int) -> None:
        point = line(STATE, {"name": name}, {}, time.time_ns(), {"value": value})
        self._write([point], ROLLUPS)

    def raw_kept_from(self) -> int | None:
        if self._first_raw is None:
            firsts = self._select(f"SELECT first(seq) FROM {_KIND_REGEX}")
            if not firsts:
                return None
            self._first_raw = min(int(s["values"][0][0]) for s in firsts)
        kept = duration_ns(policy_durations(self.store).get(RAW, "0s"))
        horizon = time.time_ns() - kept if kept else 0
        return max(self._first_raw, horizon)

    def newest_raw(self, since_ns: int) -> int | None:
        lasts = self._select(f"SELECT last(seq) FROM {_KIND_REGEX} WHERE time >= {since_ns}")
        return max((int(s["values"][0][0]) for s in lasts), default=None)

    def raw_readings(
        self,
        start_ns: int,
        end_ns: int,
        device_ids: Collection[str] | None = None,
        kinds: Collection[str] | None = None,
    ) -> Iterator[Reading]:
        source = _KIND_REGEX if kinds is None else "/^(" + "|".join(sorted(kinds)) + ")$/"
        series = self._select(
            f"SELECT * FROM {source} WHERE time >= {start_ns} AND time < {end_ns}"
            f"{_devices(device_ids)} GROUP BY *"
        )
        return iter(list(_readings(series)))

    def device_ids(self) -> list[str]:
        series = self._select(f'SHOW TAG VALUES FROM {_KIND_REGEX} WITH KEY = "device_id"')
        return sorted({row[1] for s in series for row in s["values"]})

    def groups(self, size: int) -> list[DeviceGroup]:
        """A kind at a time, every device of it: a series scan per measurement answers far
        faster than a query naming thousands of devices."""
        series = self._select(f"SHOW MEASUREMENTS WITH MEASUREMENT =~ {_KIND_REGEX}")
        kinds = sorted(row[0] for s in series for row in s["values"])
        return [DeviceGroup(None, frozenset([kind])) for kind in kinds]

    # -- rollups -----------------------------------------------------------------------

    def read_rollups(
        self, bin_s: int, start_ns: int, end_ns: int, device_ids: Collection[str] | None = None
    ) -> list[Rollup]:
        series = self._select(
            f'SELECT * FROM "{ROLLUPS}"."{ROLLUP}" WHERE "bin" = \'{int(bin_s)}\''
            f" AND time >= {start_ns} AND time < {end_ns}{_devices(device_ids)}"
            ' GROUP BY "device_id"'
        )
        found = []
        for s in series:
            read = _Columns(s["columns"])
            device_id = s["tags"]["device_id"]
            found += [read.rollup(device_id, bin_s, row) for row in s["values"] if read.kept(row)]
        return sorted(found, key=lambda r: (r.device_id, r.start_ns))

    def read_means(
        self, bin_s: int, device_id: str, attribute: str, start_ns: int, end_ns: int
    ) -> list[tuple[int, int, float]]:
        count, mean = (f'"{attribute}.{part}"' for part in ("count", "mean"))
        series = self._select(
            f'SELECT "gone", {count}, {mean} FROM "{ROLLUPS}"."{ROLLUP}"'
            f' WHERE "bin" = \'{int(bin_s)}\' AND "device_id" = {literal(device_id)}'
            f" AND time >= {start_ns} AND time < {end_ns}"
        )
        return [
            (int(ts), int(c), float(m))
            for s in series
            for ts, gone, c, m in s["values"]
            if gone is False and c is not None
        ]

    def write_rollups(self, bin_s: int, rollups: Sequence[Rollup]) -> None:
        lines = []
        for rollup in rollups:
            floats, integers = _fields(rollup)
            tags = {"device_id": rollup.device_id, "bin": str(bin_s)}
            lines.append(line(ROLLUP, tags, floats, rollup.start_ns, integers))
        for start in range(0, len(lines), 5000):
            self._write(lines[start : start + 5000], ROLLUPS)

    # -- late marks ----------------------------------------------------------------------

    def late_marks(self, limit: int) -> LateMarks:
        read_to = self.watermark(_LATE_READ_TO)
        since = (read_to - SETTLE_NS) if read_to is not None else (self.raw_kept_from() or 0)
        now = time.time_ns()
        series = self._select(
            f'SELECT "marks" FROM "{RAW}"."{LATE_MARKS}" WHERE time > {since} AND time <= {now}'
        )
        marks = {
            (str(device_id), int(start))
            for s in series
            for _, text in s["values"]
            for device_id, start in json.loads(text)
        }
        return LateMarks(marks=sorted(marks), token=now)

    def clear_late_marks(self, taken: LateMarks) -> None:
        assert isinstance(taken.token, int)
        self.set_watermark(_LATE_READ_TO, taken.token)

    # -- HTTP ------------------------------------------------------------------------------

    def _select(self, influxql: str) -> list[dict[str, Any]]:
        # A bin of a busy territory is hundreds of thousands of points: give it time.
        result = self.store.statement(influxql, timeout_s=_QUERY_TIMEOUT_S)
        if "error" in result:
            raise StoreUnavailable(f"InfluxDB query failed: {result['error']}")
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def _write(self, lines: list[str], policy: str) -> None:
        self.store._write(lines, precision="ns", policy=policy)


def _devices(device_ids: Collection[str] | None) -> str:
    if device_ids is None:
        return ""
    if not device_ids:
        return " AND false"
    return " AND (" + " OR ".join(f'"device_id" = {literal(d)}' for d in sorted(device_ids)) + ")"


def _fields(rollup: Rollup) -> tuple[dict[str, FieldValue], dict[str, int]]:
    floats: dict[str, FieldValue] = {"gone": rollup.empty}
    integers = {"n": rollup.count}
    if rollup.empty:
        return floats, integers
    floats.update(kind=rollup.kind, zone=rollup.zone)
    for name, s in rollup.numbers.items():
        floats.update({f"{name}.mean": s.mean, f"{name}.min": s.min, f"{name}.max": s.max})
        floats[f"{name}.last"] = s.last
        integers.update({f"{name}.count": s.count, f"{name}.last_ns": s.last_ns})
    for name, options in state_options(rollup.kind).items():
        held = rollup.states.get(name, {})
        for state in {*options, *held}:
            floats[f"{name}={state}"] = held.get(state, 0.0)
    return floats, integers


class _Columns:
    """How to read a rollup back from the columns of a query's series (the same for all its
    rows, so worked out once)."""

    def __init__(self, columns: list[str]) -> None:
        index = {name: i for i, name in enumerate(columns)}
        self.time, self.n, self.gone = index["time"], index["n"], index["gone"]
        # Absent where every rollup in the shards read is a `gone` one (InfluxDB names
        # the fields the shards hold): those are skipped, never read for their kind.
        self.kind, self.zone = index.get("kind"), index.get("zone")
        self.states: list[tuple[int, str, str]] = []
        for i, name in enumerate(columns):
            if "=" in name:
                attribute, state = name.split("=", 1)
                self.states.append((i, attribute, state))
        parts: dict[str, dict[str, int]] = {}
        for i, name in enumerate(columns):
            if "." in name and "=" not in name:
                attribute, part = name.rsplit(".", 1)
                parts.setdefault(attribute, {})[part] = i
        self.numbers: list[tuple[str, int, int, int, int, int, int]] = [
            (attribute, p["count"], p["mean"], p["min"], p["max"], p["last"], p["last_ns"])
            for attribute, p in parts.items()
            if all(part in p for part in _NUMBER_PARTS)
        ]

    def kept(self, row: list[Any]) -> bool:
        return row[self.gone] is False and self.kind is not None and self.zone is not None

    def rollup(self, device_id: str, bin_s: int, row: list[Any]) -> Rollup:
        states: dict[str, dict[str, float]] = {}
        for i, attribute, state in self.states:
            if row[i]:
                states.setdefault(attribute, {})[state] = float(row[i])
        assert self.kind is not None and self.zone is not None  # kept() rows only
        return Rollup(
            device_id,
            row[self.kind],
            row[self.zone],
            bin_s,
            int(row[self.time]),
            int(row[self.n]),
            {
                attribute: Summary(
                    int(row[c]),
                    float(row[m]),
                    float(row[lo]),
                    float(row[hi]),
                    float(row[la]),
                    int(row[t]),
                )
                for attribute, c, m, lo, hi, la, t in self.numbers
                if row[c] is not None
            },
            states,
        )
