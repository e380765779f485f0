"""The core's own subcommands: demo, broker, query."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal

import typer

from territory.settings import load_settings
from territory.store import Store, StoreUnavailable, open_store

query_app = typer.Typer(help="Read the store.", no_args_is_help=True)

StoreOption = typer.Option(None, "--store", help="sqlite:///PATH or influx://HOST:PORT/DB")


def demo(
    port: int = typer.Option(8080, help="Dashboard port."),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Use this broker instead of the embedded one."
    ),
    territory_file: str | None = typer.Option(None, "--territory", help="Scenario file."),
    data_dir: str = typer.Option("var/demo", help="Folder for the demo's SQLite store and logs."),
) -> None:
    """Run a whole live territory: broker, simulator, ingest, optimiser and dashboard."""
    from territory.demo import Demo

    settings = load_settings()
    demo_run = Demo(
        data_dir=data_dir,
        dashboard_port=port,
        external_mqtt=mqtt,
        territory_file=territory_file or str(settings.territory_file),
    )
    raise typer.Exit(demo_run.run())


def broker(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(1883, help="Port to listen on."),
) -> None:
    """Run the embedded MQTT broker (amqtt, MQTT 3.1.1) until interrupted: loopback only."""
    from territory.broker import is_loopback, serve

    if not is_loopback(host):
        typer.echo(
            f"territory broker: refusing to listen on {host}: the embedded broker lets anyone "
            "in, so it listens on loopback only. For a broker other hosts reach, run mosquitto "
            "with `territory secure init` (docs/security.md).",
            err=True,
        )
        raise typer.Exit(2)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(host, port, stop)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


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
