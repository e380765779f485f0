"""The shell's own commands: the zero-setup demo and its embedded broker."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import typer

from territory.settings import load_settings


def demo(
    port: int = typer.Option(8080, help="Dashboard port."),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Use this broker instead of the embedded one."
    ),
    territory_file: str | None = typer.Option(None, "--territory", help="Scenario file."),
    data_dir: str = typer.Option("var/demo", help="Folder for the demo's SQLite store and logs."),
) -> None:
    """Run a whole live territory: broker, simulator, ingest, optimiser and dashboard."""
    from territory.shell.demo import Demo

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
    from territory.bus import is_loopback
    from territory.shell.broker import serve

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
