"""Backups of an SQLite store, taken while ingest keeps writing, and their restore.

The copy goes through SQLite's online backup API in a single step: the source is read
inside one read transaction, so the copy is the store as it stood at one instant, and
with WAL the writers go on meanwhile (their changes wait in the WAL until the copy is
done). The copy is written beside its destination, checked, then renamed into place:
a backup file is always whole.

A restore copies a backup back over the store with the same API, taking the write lock
once: processes that have the store open see the restored content at their next read.

For InfluxDB, its own tools do this (docs/operations.md).
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from territory.store import sqlite_layout as layout


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


@dataclass(frozen=True)
class BackupReport:
    path: str
    bytes: int
    readings: int
    seconds: float


def backup(store_path: Path, out: Path) -> BackupReport:
    """A consistent copy of the store at `store_path` into `out` (replaced if there)."""
    if not store_path.exists():
        raise BackupError(f"no store at {store_path}")
    started = time.perf_counter()
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)  # pages=-1: one step, one read transaction
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        readings = _check(copy, partial)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {store_path} failed: {exc}") from exc
    finally:
        copy.close()
        source.close()
    os.replace(partial, out)
    return BackupReport(str(out), out.stat().st_size, readings, time.perf_counter() - started)


def restore(backup_path: Path, store_path: Path, replace: bool = False) -> BackupReport:
    """Put a backup back as the store at `store_path`. A store that holds readings is
    only replaced when `replace` says so."""
    started = time.perf_counter()
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    try:
        readings = _check(source, backup_path)
        store_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(store_path, timeout=30)
        try:
            if not replace and _has_readings(target):
                raise BackupError(
                    f"{store_path} already holds readings: restore with --replace to overwrite it"
                )
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restore of {backup_path} failed: {exc}") from exc
    finally:
        source.close()
    return BackupReport(
        str(store_path), store_path.stat().st_size, readings, time.perf_counter() - started
    )


def _check(db: sqlite3.Connection, path: Path) -> int:
    """Fail unless the database is sound; returns how many readings it holds."""
    (verdict,) = db.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")
    if not layout.has_view(db):
        raise BackupError(f"{path} is not a Soft Territory store")
    return layout.count(db)


def _has_readings(db: sqlite3.Connection) -> bool:
    return layout.has_view(db) and layout.count(db) > 0
