"""`territory query`: read the store from the command line; and opening the store that a
command names, for every command."""

from __future__ import annotations

import json
import time

import typer

from territory.settings import load_settings
from territory.store import Store, StoreUnavailable, open_store
from territory.store.rollups import Rollup

query_app = typer.Typer(help="Read the store.", no_args_is_help=True)

StoreOption = typer.Option(None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB")


def open_store_or_exit(url: str | None) -> Store:
    """Open the store named on the command line, or say plainly why not and exit 2."""
    try:
        return open_store(url or load_settings().store_url)
    except (ValueError, StoreUnavailable) as exc:
        typer.echo(f"territory: {exc}", err=True)
        raise typer.Exit(2) from exc


@query_app.command("stats")
def query_stats(store: str | None = StoreOption) -> None:
    """Totals: readings, devices, dead letters by reason (JSON)."""
    opened = open_store_or_exit(store)
    try:
        typer.echo(opened.stats().model_dump_json())
    finally:
        opened.close()


@query_app.command("latest")
def query_latest(
    kind: str | None = typer.Option(None, help="Only this kind of device."),
    zone: str | None = typer.Option(None, help="Only this zone."),
    store: str | None = StoreOption,
) -> None:
    """The newest reading of each device, by device time (JSON)."""
    opened = open_store_or_exit(store)
    try:
        rows = [
            {
                "device_id": r.device_id,
                "kind": r.kind,
                "zone": r.zone,
                "ts": r.ts,
                "seq": r.seq,
                **r.fields,
            }
            for r in opened.latest(kind=kind, zone=zone)
        ]
    finally:
        opened.close()
    typer.echo(json.dumps(rows, indent=1))


@query_app.command("history")
def query_history(
    device: str = typer.Option(..., "--device", help="The device."),
    start: str = typer.Option("-1d", "--from", help="From: ISO 8601, epoch s, -7d or now."),
    end: str = typer.Option("now", "--to", help="To (excluded): ISO 8601, epoch s, -1h or now."),
    step: str = typer.Option(
        "15m", "--step", help="Step (90s, 15m, 1h, 1d); 0 for the raw readings."
    ),
    store: str | None = StoreOption,
) -> None:
    """A device's history (JSON): raw readings, or one entry per step with each numeric
    attribute's count, mean, min, max and last value, and the seconds in each state;
    read from rollups for long windows (docs/operations.md)."""
    from territory.store.history import series
    from territory.timespec import parse_span, parse_time

    now = time.time()
    try:
        start_s, end_s = parse_time(start, now), parse_time(end, now)
        step_s = parse_span(step)
    except ValueError as exc:
        typer.echo(f"territory: {exc}", err=True)
        raise typer.Exit(2) from exc
    opened = open_store_or_exit(store)
    rows: list[dict[str, object]]
    try:
        if not step_s:
            rows = [
                {"ts": r.ts, "seq": r.seq, **r.fields}
                for r in opened.history(device, int(start_s * 1e9), int(end_s * 1e9))
            ]
        else:
            steps = series(
                opened,
                device,
                int(start_s * 1e9),
                int(end_s * 1e9),
                max(1, round(step_s)),
                load_settings().rollups,
            )
            rows = [_step_json(s) for s in steps]
    finally:
        opened.close()
    typer.echo(json.dumps(rows, indent=1))


def _step_json(step: Rollup) -> dict[str, object]:
    return {
        "ts": step.start_ns / 1e9,
        "n": step.count,
        "attributes": {
            name: {
                "count": s.count,
                "mean": s.mean,
                "min": s.min,
                "max": s.max,
                "last": s.last,
                "last_ts": s.last_ns / 1e9,
            }
            for name, s in sorted(step.numbers.items())
        },
        "states": step.states,
    }
