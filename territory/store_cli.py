"""`territory store`: maintenance, rollups rebuilt on demand, backups and restores."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import typer

from territory.logs import configure_logging
from territory.query import StoreOption, open_store_or_exit
from territory.settings import load_settings
from territory.timespec import parse_span, parse_time

store_app = typer.Typer(
    help="The store's upkeep: rollups, retention, backups.", no_args_is_help=True
)


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite store URL, or None for any other store."""
    parts = urlsplit(url)
    return Path(parts.path[1:]) if parts.scheme == "sqlite" and parts.path[1:] else None


@store_app.command("maintain")
def maintain(
    store: str | None = StoreOption,
    once: bool = typer.Option(False, "--once", help="One pass, its report as JSON, then exit."),
    every: str | None = typer.Option(None, "--every", help="Time between passes (60s)."),
) -> None:
    """Keep rollups up to date, expire what has aged out, give space back (one per store)."""
    from territory.store.maintenance import Maintainer, describe

    settings = load_settings()
    configure_logging("maintain", settings.log_format)
    schedule = settings.maintenance
    # Background work: on a busy machine the ingest it runs beside comes first.
    os.nice(schedule.nice)
    if every is not None:
        schedule = schedule.model_copy(update={"every_s": _span_or_exit(every)})
    opened = open_store_or_exit(store)
    maintainer = Maintainer(opened, settings.rollups, settings.retention, schedule)
    try:
        if once:
            report = maintainer.run_once()
            logging.getLogger("store").info("maintenance: %s", describe(report))
            typer.echo(json.dumps(asdict(report)))
            return

        # Stop at once, even mid-pass: every step is a transaction of its own or done again
        # by the next pass, so an interrupted pass loses nothing.
        def request_stop(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, request_stop)
        with contextlib.suppress(KeyboardInterrupt):
            maintainer.run(threading.Event())
    finally:
        opened.close()


@store_app.command("rollup")
def rollup(
    start: str = typer.Option(..., "--from", help="From: ISO 8601, epoch s, -7d or now."),
    end: str = typer.Option("now", "--to", help="To (excluded): ISO 8601, epoch s, -1h or now."),
    store: str | None = StoreOption,
) -> None:
    """Compute again the rollups of a period from its raw readings (those still kept)."""
    from territory.store.maintenance import for_maintenance, rollup_engine

    now = time.time()
    start_s, end_s = _time_or_exit(start, now), _time_or_exit(end, now)
    opened = open_store_or_exit(store)
    try:
        for_maintenance(opened)
        engine = rollup_engine(opened, load_settings().rollups)
        report = engine.rebuild(int(start_s * 1e9), int(end_s * 1e9), time.time_ns())
    finally:
        opened.close()
    typer.echo(json.dumps(asdict(report)))


@store_app.command("backup")
def backup(
    out: Path = typer.Option(..., "--out", help="The backup file to write."),
    store: str | None = StoreOption,
) -> None:
    """A consistent copy of an SQLite store, taken while ingest keeps writing."""
    from territory.store.backup import BackupError
    from territory.store.backup import backup as take_backup

    path = _sqlite_or_exit(store)
    try:
        report = take_backup(path, out)
    except BackupError as exc:
        typer.echo(f"territory store backup: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(asdict(report)))


@store_app.command("restore")
def restore(
    source: Path = typer.Option(..., "--from", help="The backup file to restore."),
    store: str | None = StoreOption,
    replace: bool = typer.Option(False, "--replace", help="Overwrite a store that has readings."),
) -> None:
    """Put a backup back as the SQLite store."""
    from territory.store.backup import BackupError
    from territory.store.backup import restore as put_back

    path = _sqlite_or_exit(store)
    try:
        report = put_back(source, path, replace=replace)
    except BackupError as exc:
        typer.echo(f"territory store restore: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(asdict(report)))


def _sqlite_or_exit(url: str | None) -> Path:
    url = url or load_settings().store_url
    path = sqlite_path(url)
    if path is None:
        typer.echo(
            "territory store: backups here are of SQLite stores; for InfluxDB use"
            " `influxd backup -portable -db DB DIR` (docs/operations.md, Backups)",
            err=True,
        )
        raise typer.Exit(2)
    return path


def _span_or_exit(text: str) -> float:
    try:
        return parse_span(text)
    except ValueError as exc:
        typer.echo(f"territory: {exc}", err=True)
        raise typer.Exit(2) from exc


def _time_or_exit(text: str, now: float) -> float:
    try:
        return parse_time(text, now)
    except ValueError as exc:
        typer.echo(f"territory: {exc}", err=True)
        raise typer.Exit(2) from exc
