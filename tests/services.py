"""Real services for the tests: mosquitto and influxd as subprocesses on free ports, and
the one way the tests start a process and stop it."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def find_binary(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )
    if found is None:
        raise RuntimeError(f"{name} is not installed: run `make test`, which installs it")
    return found


def start_process(
    argv: Sequence[str],
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`argv` in a subprocess, what it writes (both streams) appended to `log_path`."""
    with log_path.open("ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env)


def stop_process(
    process: subprocess.Popen[bytes] | None, timeout: float = 10.0, sig: int = signal.SIGTERM
) -> int | None:
    """Ask `process` to stop with `sig`, and kill it if it still runs after `timeout` s;
    its exit code (None without a process)."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass
class Mosquitto:
    """A mosquitto subprocess using config/mosquitto.conf with its own port and folder."""

    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = self.port or free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        config = (REPO / "config/mosquitto.conf").read_text()
        config = re.sub(r"^listener .*$", f"listener {self.port} 127.0.0.1", config, flags=re.M)
        config = re.sub(
            r"^persistence_location .*$",
            f"persistence_location {self.folder}/",
            config,
            flags=re.M,
        )
        conf = self.folder / "mosquitto.conf"
        conf.write_text(config)
        self.process = start_process(
            [find_binary("mosquitto"), "-c", str(conf)], self.folder / "mosquitto.log"
        )
        wait_for_port(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        stop_process(self.process, 10, sig)
        self.process = None


@dataclass
class ConfiguredMosquitto:
    """A mosquitto subprocess started from a configuration written elsewhere (for
    instance by `territory secure init`), listening on `ports`."""

    conf: Path
    ports: list[int]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_process(
            [find_binary("mosquitto"), "-c", str(self.conf)], self.log_path
        )
        for port in self.ports:
            wait_for_port(port)

    def reload(self) -> None:
        """SIGHUP: mosquitto reads its password and ACL files again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        stop_process(self.process, 10)
        self.process = None


@dataclass
class Influxd:
    """An influxd (1.x) subprocess with a private configuration in its own folder."""

    folder: Path
    port: int = 0
    auth: bool = False
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def store_url(self, database: str) -> str:
        return f"influx://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.port = self.port or free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "influxdb.conf"
        conf.write_text(_influx_config(self.folder, self.port, free_port(), self.auth))
        self.process = start_process(
            [find_binary("influxd"), "run", "-config", str(conf)], self.folder / "influxd.log"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    return
            time.sleep(0.1)
        raise TimeoutError("influxd did not answer /ping in 30 s")

    def stop(self) -> None:
        stop_process(self.process, 15)
        self.process = None


def _influx_config(folder: Path, http_port: int, rpc_port: int, auth: bool) -> str:
    return f"""
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{folder}/meta"
[data]
  dir = "{folder}/data"
  wal-dir = "{folder}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  max-body-size = 0
  auth-enabled = {"true" if auth else "false"}
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""


@contextlib.contextmanager
def running(service: Mosquitto | Influxd) -> Iterator[Mosquitto | Influxd]:
    service.start()
    try:
        yield service
    finally:
        service.stop()
