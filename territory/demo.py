"""`territory demo`: a whole live territory from one command, nothing to install.

Each component runs as its own `territory` subprocess, exactly as in production,
so the demo exercises the same code paths; this module only starts, watches and
stops them.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from territory.broker import embedded_url

_STOP_GRACE_S = 4.0


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
    _stopping: bool = False

    def run(self) -> int:
        folder = Path(self.data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy's spelling: sqlite:///relative or sqlite:////absolute.
        store_url = f"sqlite:///{folder / 'territory.db'}"
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        try:
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
                ],
                folder,
            )
            self._start(
                "simulator",
                ["simulate", "--mqtt", mqtt_url, "--territory", self.territory_file, "--seed", "1"],
                folder,
            )
            self._start(
                "optimiser",
                ["optimise", "--mqtt", mqtt_url, "--store", store_url, "--every", "30s"],
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
                ],
                folder,
            )
            _wait_for_port(self.dashboard_port, 30)
            self._announce(mqtt_url, store_url, folder)
            return self._watch()
        except (TimeoutError, OSError) as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
        finally:
            self._stop_all()

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
        for role, token in _demo_tokens():
            print(f"             sign in as {role} with {token}")
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


def _demo_tokens() -> list[tuple[str, str]]:
    """The console's tokens, so that whoever ran the demo can sign in."""
    from dashboard.config import DEFAULT_CONSOLE_CONFIG, ConsoleConfigError, load_console_config

    try:
        config = load_console_config(DEFAULT_CONSOLE_CONFIG)
    except (ConsoleConfigError, OSError):
        return []
    return [(spec.role, spec.token.get_secret_value()) for spec in config.tokens]


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
