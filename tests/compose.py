"""docker-compose.yml without Docker: its services as local processes.

No Docker engine runs where the tests run, so the compose file is read as data and each
service's `command` runs as it is written, with its `environment`, mapping only what a
container would place elsewhere:

- `${VAR}` and friends take their values from the `.env` that `territory secure compose`
  wrote, as docker compose would;
- every path a service has mounted (its volumes and its `/run/secrets/NAME`) lives in a
  folder of the service's own that mirrors the container's file system: a mounted file is
  copied there, the container paths inside it mapped the same way, a folder is linked.
  A path the service did not mount stays as written, and fails as it would in the
  container;
- a service's name and port (`mosquitto:8884`, `influxdb:8086`) become 127.0.0.1 and the
  port of the local process standing for it; a port a service listens on
  (`--metrics-port`, `--port`) becomes a free one, and `--host 0.0.0.0` loopback;
- `./var/compose` (what `territory secure compose` writes) is the test's own folder, and
  the container's working directory (the image's /app) is the repository.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import yaml

from territory.secure.compose import BROKER_ROOT
from tests.services import (
    REPO,
    Influxd,
    find_binary,
    free_port,
    start_process,
    stop_process,
    wait_for_port,
)

COMPOSE_FILE = REPO / "docker-compose.yml"
SECRETS_FOLDER = "./var/compose"  # where the compose file reads what `secure compose` wrote
INFLUXDB_PORT = 8086  # the influxdb image's HTTP port
LISTEN_OPTIONS = ("--metrics-port", "--port")
# The lines mosquitto logs when a client id connects while a client with that id is
# still connected: the older connection is closed, its session taken over.
TAKEOVER = re.compile(r"Client (\S+) already connected, closing old connection")
CONNECTED = re.compile(r"New client connected from \S+ as (\S+)")

_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


# -- reading the compose file -------------------------------------------------------


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """`text` with compose's `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
    `${VAR:?error}`, `${VAR?error}` and `$$` replaced as docker compose does."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        empty = value is None or (op is not None and op.startswith(":") and value == "")
        if not empty:
            return str(value)
        if op in (":?", "?"):
            raise ValueError(f"${{{name}}} is required: {arg}")
        if op in (":-", "-"):
            return arg
        return ""

    return _VARIABLE.sub(replace, text)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as docker compose reads `.env`."""
    found = {}
    for line in path.read_text().splitlines():
        key, equals, value = line.partition("=")
        if equals and not line.lstrip().startswith("#"):
            found[key.strip()] = value.strip()
    return found


def load_compose(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file, YAML anchors merged and every string interpolated from `env`."""
    document: dict[str, Any] = yaml.safe_load(path.read_text())

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return interpolate(node, env)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        return node

    resolved: dict[str, Any] = walk(document)
    return resolved


def command_of(spec: Mapping[str, Any], key: str = "command") -> list[str]:
    """A service's command (or entrypoint) as an argument list."""
    value = spec.get(key) or []
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


def environment_of(spec: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment, in either of compose's two spellings."""
    value = spec.get("environment") or {}
    if isinstance(value, list):
        return dict(item.partition("=")[::2] for item in value)
    return {key: "" if item is None else str(item) for key, item in value.items()}


def mounts_of(compose: Mapping[str, Any], name: str) -> dict[str, str]:
    """Container path -> the compose file's path of what is mounted there (bind mounts
    and secrets; named volumes hold nothing the test provides)."""
    spec = compose["services"][name]
    mounts: dict[str, str] = {}
    for volume in spec.get("volumes") or []:
        source, _, rest = volume.partition(":")
        if source.startswith((".", "/")):
            mounts[rest.split(":")[0]] = source
    for secret in spec.get("secrets") or []:
        source = secret if isinstance(secret, str) else secret["source"]
        target = source if isinstance(secret, str) else secret.get("target", source)
        mounts[f"/run/secrets/{target}"] = compose["secrets"][source]["file"]
    return mounts


def takeovers(broker_log: str) -> list[str]:
    """Client ids whose connection another connection took over, as mosquitto logs it."""
    return TAKEOVER.findall(broker_log)


def connections(broker_log: str, client_id: str) -> int:
    """How many times `client_id` connected, as mosquitto logs it."""
    return CONNECTED.findall(broker_log).count(client_id)


# -- one service as a local process --------------------------------------------------


@dataclass
class LocalService:
    """A compose service run as a local process: its arguments and environment mapped."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    listens: dict[int, int] = field(default_factory=dict)  # container port -> local port
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = start_process(self.argv, self.log_path, cwd=REPO, env=self.env)

    def port(self, container_port: int) -> int:
        return self.listens[container_port]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        return stop_process(self.process, 20)


@dataclass
class ComposeRun:
    """The services of one compose file, run locally against one `secure compose` output."""

    compose: dict[str, Any]
    out: Path  # what `territory secure compose --out` wrote: ./var/compose
    folder: Path  # the test's scratch folder: views and logs
    network: dict[str, int] = field(default_factory=dict)  # "service:port" -> local port
    services: dict[str, LocalService] = field(default_factory=dict)
    influxd: Influxd | None = None

    # -- paths and addresses --------------------------------------------------------

    def project_path(self, source: str) -> Path:
        """A path as the compose file names it (relative to the compose file's folder)."""
        if source == SECRETS_FOLDER or source.startswith(SECRETS_FOLDER + "/"):
            return self.out / source[len(SECRETS_FOLDER) :].lstrip("/")
        return (REPO / source).resolve()

    def view(self, name: str) -> Callable[[str], str]:
        """The service's file system, materialised, and the function that maps text
        naming container paths onto it."""
        root = self.folder / "views" / name
        mounts = mounts_of(self.compose, name)
        pattern = _path_pattern(list(mounts))

        def mapped(text: str) -> str:
            if pattern is None:
                return text
            return pattern.sub(lambda m: str(root / m.group(0).lstrip("/")), text)

        for target, source in mounts.items():
            local = root / target.lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            if local.is_symlink() or local.exists():
                local.unlink()
            host = self.project_path(source)
            if host.is_dir():
                local.symlink_to(host)
                continue
            try:
                local.write_text(mapped(host.read_text()))
            except UnicodeDecodeError:
                shutil.copyfile(host, local)
            shutil.copymode(host, local)
        return mapped

    def address(self, text: str) -> str:
        """`service:port` of a compose service -> 127.0.0.1 and its local port."""
        names = "|".join(re.escape(name) for name in self.compose["services"])

        def local(match: re.Match[str]) -> str:
            key = f"{match.group(1)}:{match.group(2)}"
            if key not in self.network:
                raise AssertionError(f"{key} is dialled, and no service listens there")
            return f"127.0.0.1:{self.network[key]}"

        mapped = re.sub(rf"(?<![\w.-])({names}):(\d+)\b", local, text)
        bare = re.search(rf"//({names})(?![\w.:-])", mapped)
        if bare:
            raise AssertionError(f"{text!r} dials {bare.group(1)} without a port")
        return mapped

    # -- services -------------------------------------------------------------------

    def prepare(self, name: str) -> LocalService:
        """The service's command and environment, mapped, ready to start."""
        spec = self.compose["services"][name]
        paths = self.view(name)
        argv = [self.address(paths(arg)) for arg in command_of(spec)]
        listens: dict[int, int] = {}
        for index, arg in enumerate(argv[:-1]):
            if arg in LISTEN_OPTIONS:
                listens[int(argv[index + 1])] = free_port()
                argv[index + 1] = str(listens[int(argv[index + 1])])
            if arg == "--host" and argv[index + 1] == "0.0.0.0":
                argv[index + 1] = "127.0.0.1"
        if argv and argv[0] == "territory":
            argv = [sys.executable, "-m", "territory", *argv[1:]]
        env = {"PATH": os.environ["PATH"], "HOME": str(self.folder), "PYTHONUNBUFFERED": "1"}
        env.update({k: self.address(paths(v)) for k, v in environment_of(spec).items()})
        log_path = self.folder / f"{name}.log"
        return LocalService(name, argv, env, log_path, listens)

    def start(self, name: str, as_name: str | None = None) -> LocalService:
        service = self.prepare(name)
        if as_name is not None:
            service.name, service.log_path = as_name, self.folder / f"{as_name}.log"
        service.start()
        self.services[service.name] = service
        return service

    def start_mosquitto(self, name: str = "mosquitto") -> LocalService:
        """mosquitto from the service's command, its listeners moved to free local ports."""
        service = self.prepare(name)
        conf = Path(service.argv[service.argv.index("-c") + 1])
        text = conf.read_text()
        for port in [int(p) for p in re.findall(r"^listener (\d+)\s*$", text, flags=re.M)]:
            local = free_port()
            self.network[f"{name}:{port}"] = service.listens[port] = local
            text = re.sub(rf"^listener {port}\s*$", f"listener {local} 127.0.0.1", text, flags=re.M)
        conf.write_text(text)
        service.argv[0] = find_binary(service.argv[0])
        service.start()
        self.services[name] = service
        for local in service.listens.values():
            wait_for_port(local)
        return service

    def start_influxdb(self, name: str = "influxdb") -> None:
        """influxd with authentication, its users made as the image makes them at first
        start, from the environment the service's entrypoint hands the image."""
        handed = self._run_entrypoint(name)
        if handed.get("INFLUXDB_HTTP_AUTH_ENABLED", "").lower() != "true":
            raise AssertionError(f"{name}: INFLUXDB_HTTP_AUTH_ENABLED is not true")
        self.influxd = Influxd(self.folder / "influxd", auth=True)
        self.influxd.start()
        self.network[f"{name}:{INFLUXDB_PORT}"] = self.influxd.port
        create_users(self.influxd.url, handed)

    def _run_entrypoint(self, name: str) -> dict[str, str]:
        """Run the service's entrypoint with a stand-in for the image's own, which
        records the environment it is handed."""
        record = self.folder / f"{name}-handed.json"
        stand_in = self.folder / f"{name}-image-entrypoint"
        stand_in.write_text(
            f"#!{sys.executable}\nimport json, os, sys\n"
            f"json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
        )
        stand_in.chmod(0o700)
        spec = self.compose["services"][name]
        paths = self.view(name)
        argv = [paths(arg) for arg in command_of(spec, "entrypoint") + command_of(spec)]
        env = {"PATH": os.environ["PATH"], "INFLUXDB_IMAGE_ENTRYPOINT": str(stand_in)}
        env.update({k: paths(v) for k, v in environment_of(spec).items()})
        ran = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        if ran.returncode != 0:
            raise AssertionError(f"{name}'s entrypoint failed: {ran.stderr}")
        handed = json.loads(record.read_text())
        if handed["argv"] != command_of(spec):
            raise AssertionError(f"{name}'s entrypoint handed {handed['argv']} to the image")
        return {k: v for k, v in handed["env"].items() if k.startswith("INFLUXDB_")}

    def stop_all(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        if self.influxd is not None:
            self.influxd.stop()

    def broker_log(self, name: str = "mosquitto") -> str:
        return self.services[name].log()

    def host_account(self, name: str) -> Path:
        """An account file written for the containers, its CA path mapped to this host."""
        source = self.out / "broker" / "accounts" / f"{name}.json"
        document = json.loads(source.read_text())
        seen = PurePosixPath(document["ca_cert"]).relative_to(BROKER_ROOT)
        document["ca_cert"] = str(self.out / "broker" / seen)
        local = self.folder / "accounts" / f"{name}.json"
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(json.dumps(document))
        local.chmod(0o600)
        return local


def _path_pattern(targets: list[str]) -> re.Pattern[str] | None:
    """Matches any of the container paths where a path starts, the longest first."""
    if not targets:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(targets, key=len, reverse=True))
    return re.compile(rf"(?<![\w./-])(?:{alternatives})(?=$|[/\s\"',;:}}\]])")


# -- InfluxDB's first start, as the influxdb:1.8 image documents it -------------------


def create_users(url: str, env: Mapping[str, str]) -> None:
    """The users the image creates at first start: INFLUXDB_ADMIN_USER with all
    privileges, INFLUXDB_USER with all privileges on INFLUXDB_DB, INFLUXDB_READ_USER and
    INFLUXDB_WRITE_USER with read or write on it."""
    admin, password = env["INFLUXDB_ADMIN_USER"], env["INFLUXDB_ADMIN_PASSWORD"]
    _influxql(url, f"CREATE USER \"{admin}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES")
    auth = (admin, password)
    database = env["INFLUXDB_DB"]
    _influxql(url, f'CREATE DATABASE "{database}"', auth)
    for role, grant in (("", "ALL"), ("_READ", "READ"), ("_WRITE", "WRITE")):
        user = env.get(f"INFLUXDB{role}_USER")
        if user:
            secret = env[f"INFLUXDB{role}_USER_PASSWORD"]
            _influxql(url, f"CREATE USER \"{user}\" WITH PASSWORD '{secret}'", auth)
            _influxql(url, f'GRANT {grant} ON "{database}" TO "{user}"', auth)


def _influxql(url: str, query: str, auth: tuple[str, str] | None = None) -> None:
    response = httpx.post(f"{url}/query", data={"q": query}, auth=auth, timeout=10)
    response.raise_for_status()
    if "error" in response.json()["results"][0]:
        raise AssertionError(f"InfluxDB refused a user set-up statement: {response.text}")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for `condition`; the bound keeps a broken run from hanging, it is not the
    thing under test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    if not condition():
        raise AssertionError(f"never happened: {what}")
