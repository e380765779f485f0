"""Readings for the live energy tests, at a fixed wall-clock time."""

from __future__ import annotations

from territory.readings import Reading

NOW = 1_780_000_000.0  # a fixed wall-clock time keeps the slot arithmetic exact


def reading(kind: str, device: str, ts: float, seq: int = 1, **fields: object) -> Reading:
    return Reading(kind, "z1", device, int(ts * 1e9), seq, dict(fields), int(ts * 1e9))  # type: ignore[arg-type]
