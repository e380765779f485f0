"""`territory query`: read the store from the command line; and opening the store that a
command names, for every command."""

from __future__ import annotations

import json

import typer

from territory.settings import load_settings
from territory.store import Store, StoreUnavailable, open_store

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
