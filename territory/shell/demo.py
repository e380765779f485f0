"""`territory demo`: a whole live territory from one command, nothing to install.

Each component runs as its own `territory` subprocess, exactly as in production,
so the demo exercises the same code paths; this module only starts, watches and
stops them.

The console gets two tokens made afresh at each start (a viewer's and an operator's):
their hashes go into a console configuration of the demo's own (the working folder's
`config/console.yaml` with its tokens replaced, written to the data folder, readable by
its owner only), and the tokens themselves are printed once, here, and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

from territory.documents import DocumentError, read_mapping
from territory.shell.broker import embedded_url
from territory.tokens import hash_token, new_token

_STOP_GRACE_S = 4.0
# The console configuration the demo's own is made from, when the working folder has one.
BASE_CONSOLE_CONFIG = Path("config/console.yaml")
DEMO_ROLES = ("viewer", "operator")


@dataclass
class Component:
    name: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "territory", *self.args], stdout=log, stderr=subprocess.STDOUT
        )

    @property
    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class Demo:
    """Broker (embedded unless one is given), ingest, simulator, optimiser, dashboard."""

    data_dir: str
    dashboard_port: int
    external_mqtt: str | None
    territory_file: str
    components: list[Component] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # role -> this run's token
    _stopping: bool = False

    def run(self) -> int:
        folder = Path(self.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy's spelling: sqlite:///relative or sqlite:////absolute.
        store_url = f"sqlite:///{folder / 'territory.db'}"
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        try:
            console_config = self.write_console_config(folder)
            mqtt_url = self.external_mqtt or self._start_broker(folder)
            self._start(
                "ingest",
                [
                    "ingest",
                    "--mqtt",
                    mqtt_url,
                    "--store",
                    store_url,
                    "--client-id",
                    "territory-demo-ingest",
                    "--inventory",
                    self.territory_file,
                ],
                folder,
            )
            # Rollups, retention and space, as in production: a process of its own.
            self._start("maintain", ["store", "maintain", "--store", store_url], folder)
            self._start(
                "simulator",
                ["simulate", "--mqtt", mqtt_url, "--territory", self.territory_file, "--seed", "1"],
                folder,
            )
            self._start(
                "optimiser",
                [
                    "optimise",
                    "--mqtt",
                    mqtt_url,
                    "--store",
                    store_url,
                    "--every",
                    "30s",
                    "--inventory",
                    self.territory_file,
                ],
                folder,
            )
            self._start(
                "dashboard",
                [
                    "dashboard",
                    "--store",
                    store_url,
                    "--port",
                    str(self.dashboard_port),
                    "--territory",
                    self.territory_file,
                    "--mqtt",
                    mqtt_url,
                    "--console-config",
                    str(console_config),
                ],
                folder,
            )
            _wait_for_port(self.dashboard_port, 30)
            self._announce(mqtt_url, store_url, folder)
            return self._watch()
        except (TimeoutError, OSError, DocumentError) as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
        finally:
            self._stop_all()

    def write_console_config(self, folder: Path) -> Path:
        """The console's configuration for this run, with fresh tokens; returns its path."""
        settings: dict[str, Any] = {}
        if BASE_CONSOLE_CONFIG.exists():
            settings = read_mapping(BASE_CONSOLE_CONFIG, "console configuration")
        self.tokens = {role: new_token() for role in DEMO_ROLES}
        settings["tokens"] = [
            {"name": f"demo-{role}", "role": role, "token_hash": hash_token(token)}
            for role, token in self.tokens.items()
        ]
        path = folder / "console.yaml"
        # Created readable by its owner alone, before anything is written into it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write("# Written by `territory demo` at each start: its tokens last one run.\n")
            yaml.safe_dump(settings, out, sort_keys=False)
        path.chmod(0o600)  # a file left by an earlier run keeps its old mode otherwise
        return path

    def _start_broker(self, folder: Path) -> str:
        port = 1883 if _port_free(1883) else _free_port()
        self._start("broker", ["broker", "--port", str(port)], folder)
        _wait_for_port(port, 15)
        return embedded_url("127.0.0.1", port)

    def _start(self, name: str, args: list[str], folder: Path) -> None:
        if self._stopping:
            raise OSError("stopped while starting")
        component = Component(name, args, folder / f"{name}.log")
        component.start()
        self.components.append(component)

    def _announce(self, mqtt_url: str, store_url: str, folder: Path) -> None:
        print("Soft Territory demo is running:")
        print(f"  dashboard  http://127.0.0.1:{self.dashboard_port}")
        for role, token in self.tokens.items():
            print(f"             sign in as {role} with {token}")
        print("             (tokens made for this run only: the next start makes new ones)")
        # The embedded broker has no accounts and no TLS: loopback keeps it to this machine.
        where = "" if self.external_mqtt else "  (embedded, no accounts: 127.0.0.1 only)"
        print(f"  broker     {mqtt_url}{where}")
        print(f"  store      {store_url}")
        print(f"  territory  {self.territory_file}")
        print(f"  logs       {folder}/*.log")
        print("Ctrl-C stops everything.", flush=True)

    def _watch(self) -> int:
        while not self._stopping:
            for component in self.components:
                if component.exited is not None:
                    print(
                        f"demo: {component.name} exited with {component.exited}:", file=sys.stderr
                    )
                    print(component.log_tail(), file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        for component in reversed(self.components):
            if component.process and component.process.poll() is None:
                component.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_S
        for component in self.components:
            if component.process is None:
                continue
            try:
                component.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                component.process.kill()
                component.process.wait()
        print("demo: stopped", flush=True)


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port} within {timeout:.0f} s")
