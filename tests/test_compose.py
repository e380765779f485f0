"""docker-compose.yml's production shape, run: `territory secure compose` as its documented
step, then mosquitto, InfluxDB and every Soft Territory service from the compose file's
own commands and environment, as local processes (tests/compose.py says what is mapped).

Readings flow from the simulator through both ingest replicas into InfluxDB, the
optimiser publishes plans that the console account receives, the console serves with the
token the step printed, Grafana's datasource credentials read the database, and neither
replica's session is ever taken over.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
import yaml
from cryptography import x509

from territory.bus import BrokerAddress, connect, default_client_id, make_client
from territory.inventory import load_inventory
from territory.store.credentials import InfluxCredentials
from territory.store.influx import InfluxStore
from tests.compose import (
    ComposeRun,
    LocalService,
    command_of,
    connections,
    environment_of,
    load_compose,
    read_env_file,
    takeovers,
    wait_for,
)
from tests.compose_checks import parse_command
from tests.services import REPO
from tests.territory.secure.probe import Probe

# The minute under load: LOAD_RATE messages a second for LOAD_SECONDS, spread over the
# inventory's meters. Modest on purpose: a 2-core machine runs it beside other work.
LOAD_SECONDS = 60.0
LOAD_RATE = 100
STARTUP_S = 60.0  # bound on a service coming up; a broken run fails instead of hanging
FLOW_S = 120.0  # bound on readings and plans arriving


@dataclass
class Stack:
    """The compose file's services running locally, and what `secure compose` printed."""

    run: ComposeRun
    token: str
    replicas: list[str] = field(default_factory=list)

    def service(self, name: str) -> LocalService:
        return self.run.services[name]

    def store(self, service: str | None = None) -> InfluxStore:
        """The database as a service reaches it (default: an ingest worker, the territory
        user)."""
        env = self.service(service or self.replicas[0]).env
        credentials = InfluxCredentials(
            username=env["TERRITORY_INFLUX_USERNAME"],
            password=Path(env["TERRITORY_INFLUX_PASSWORD_FILE"]).read_text(),
        )
        return InfluxStore.from_url(env["TERRITORY_STORE_URL"], credentials)

    def status_url(self, replica: str) -> str:
        """Where the worker serves /metrics and /healthz (its --metrics-port, mapped)."""
        params = parse_command(command_of(self.run.compose["services"][replica])[1:])
        return f"http://127.0.0.1:{self.service(replica).port(params['metrics_port'])}"

    def metric(self, replica: str, name: str) -> float:
        text = httpx.get(f"{self.status_url(replica)}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{replica}: no {name} in /metrics")

    def subscribed(self, replica: str) -> bool:
        try:
            health = httpx.get(f"{self.status_url(replica)}/healthz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        return health.get("subscribed") is True

    def client_id(self, replica: str) -> str:
        """The client id the worker connects with, as its command and environment make
        it (an option, a variable, or the host name and replica)."""
        params = parse_command(command_of(self.run.compose["services"][replica])[1:])
        env = self.service(replica).env
        chosen = params["client_id"] or env.get("TERRITORY_INGEST__CLIENT_ID")
        replica_name = params["replica"] or env.get("TERRITORY_INGEST__REPLICA")
        return chosen or default_client_id("ingest", replica_name)

    def broker_url(self, service: str) -> str:
        """The broker URL a service is given, mapped: the console account dials the
        services listener as the optimiser does, a device the field one as the twin does."""
        return self.run.address(
            environment_of(self.run.compose["services"][service])["TERRITORY_MQTT_URL"]
        )

    def policies_ready(self) -> bool:
        store = self.store("maintain")
        try:
            found = store.statement(f"SHOW RETENTION POLICIES ON {store.database}")
        finally:
            store.close()
        names = {row[0] for s in found.get("series", []) for row in s["values"]}
        return {"raw", "rollups", "deadletters", "plans", "audit"} <= names

    def readings(self) -> int:
        store = self.store()
        try:
            return store.stats().readings
        finally:
            store.close()


def secure_compose(folder: Path) -> tuple[Path, Path, str]:
    """The documented step, `territory secure compose`, into the test's folder: its
    output folder, the env file and the operator token it printed once."""
    out, env_file = folder / "var-compose", folder / ".env"
    options = ["--out", str(out), "--env-file", str(env_file)]
    step = subprocess.run(
        [sys.executable, "-m", "territory", "secure", "compose", *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert step.returncode == 0, step.stderr
    token_line = next(line for line in step.stdout.splitlines() if line.startswith("console token"))
    return out, env_file, token_line.split(":", 1)[1].strip()


def start_stack(stack: Stack) -> None:
    """mosquitto, InfluxDB and both ingest replicas, from the compose file."""
    run = stack.run
    run.start_mosquitto()
    run.start_influxdb()
    # The maintainer (InfluxDB's admin account) creates the retention policies the
    # other services write to and read from.
    run.start("maintain")
    wait_for(stack.policies_ready, STARTUP_S, "retention policies created")
    stack.replicas = sorted(
        name
        for name, spec in run.compose["services"].items()
        if command_of(spec)[:2] == ["territory", "ingest"]
    )
    for replica in stack.replicas:
        run.start(replica)
    for replica in stack.replicas:
        wait_for(partial(stack.subscribed, replica), STARTUP_S, f"{replica} subscribed")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    out, env_file, token = secure_compose(tmp_path)
    running = Stack(ComposeRun(load_compose(read_env_file(env_file)), out, tmp_path), token)
    try:
        start_stack(running)
        yield running
    finally:
        running.run.stop_all()


def assert_no_takeover(stack: Stack) -> None:
    """The broker's log: each replica connected once, no connection taken over; each
    worker's metrics: connected, and it received its share."""
    log = stack.run.broker_log()
    assert takeovers(log) == []
    for replica in stack.replicas:
        assert connections(log, stack.client_id(replica)) == 1, replica
        assert stack.metric(replica, "ingest_broker_up") == 1.0, replica
        assert stack.metric(replica, "ingest_received_total") > 0, replica


def test_the_compose_file_runs_readings_to_plans(stack: Stack) -> None:
    run = stack.run
    assert len(stack.replicas) == 2
    assert len({stack.client_id(r) for r in stack.replicas}) == 2

    simulator = run.start("simulator")
    wait_for(lambda: stack.readings() > 0, FLOW_S, "readings stored in InfluxDB")

    console = Probe(
        BrokerAddress.from_url(stack.broker_url("optimiser"), run.host_account("console"))
    )
    assert console.open() == "accepted"
    console.subscribe(["territory/plans/#"])
    run.start("optimiser")
    wait_for(
        lambda: any(m.topic.startswith("territory/plans/") for m in console.messages()),
        FLOW_S,
        "a plan published",
    )
    console.close()

    dashboard = run.start("dashboard")
    listens = parse_command(command_of(run.compose["services"]["dashboard"])[1:])["port"]
    base = f"http://127.0.0.1:{dashboard.port(listens)}"
    wait_for(lambda: _answers(f"{base}/healthz"), STARTUP_S, "the console serving")
    assert httpx.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
    signed_in = {"Authorization": f"Bearer {stack.token}"}
    whoami = httpx.get(f"{base}/api/whoami", headers=signed_in, timeout=10)
    assert whoami.json() == {"name": "operator", "role": "operator"}
    assert httpx.get(f"{base}/api/whoami", timeout=10).status_code == 401
    plans = httpx.get(f"{base}/api/plans", headers=signed_in, timeout=10)
    assert plans.status_code == 200 and plans.json(), plans.text  # read from InfluxDB

    assert_grafana_reads(stack)
    assert simulator.alive() and all(stack.service(r).alive() for r in stack.replicas)
    assert_no_takeover(stack)
    assert_maintainer_gives_way(stack)


def assert_maintainer_gives_way(stack: Stack) -> None:
    """The maintainer runs at a lower CPU priority than the ingest replicas beside it."""
    niceness = {}
    for name in ["maintain", *stack.replicas]:
        process = stack.service(name).process
        assert process is not None and process.poll() is None, name
        niceness[name] = int(Path(f"/proc/{process.pid}/stat").read_text().split()[18])
    assert all(niceness["maintain"] == niceness[r] + 10 for r in stack.replicas), niceness


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return False
    return True


def assert_grafana_reads(stack: Stack) -> None:
    """Grafana's datasource, as provisioned: its user, and the password from the secret
    its `$__file{...}` names, as Grafana's container sees it, read the readings."""
    provisioned = yaml.safe_load(
        (REPO / "config/grafana/provisioning/datasources/influxdb.yaml").read_text()
    )["datasources"][0]
    paths = stack.run.view("grafana")
    password_ref = provisioned["secureJsonData"]["password"]
    assert password_ref.startswith("$__file{") and password_ref.endswith("}")
    password = Path(paths(password_ref[len("$__file{") : -1])).read_text()
    url = stack.run.address(provisioned["url"].removeprefix("http://"))
    answer = httpx.get(
        f"http://{url}/query",
        params={"db": provisioned["database"], "q": "SELECT count(seq) FROM /.*/"},
        auth=(provisioned["user"], password),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert "series" in answer.json()["results"][0]
    written = httpx.post(
        f"http://{url}/write",
        params={"db": provisioned["database"]},
        content=b"meter,device_id=x value=1",
        auth=(provisioned["user"], password),
        timeout=10,
    )
    assert written.status_code == 403  # read only


def test_the_broker_s_certificate_names_every_host_the_services_dial(tmp_path: Path) -> None:
    """The local run dials 127.0.0.1; in the containers, the TLS host check holds the
    name each service dials against the certificate `secure compose` issued."""
    out, env_file, _ = secure_compose(tmp_path)
    compose = load_compose(read_env_file(env_file))
    dialled = set()
    for spec in compose["services"].values():
        # Our broker, as services name it (a bridge's --source is another operator's).
        args = command_of(spec)
        urls = [environment_of(spec).get("TERRITORY_MQTT_URL", "")]
        urls += [value for flag, value in itertools.pairwise(args) if flag == "--mqtt"]
        dialled |= {m.group(1) for url in urls if (m := re.match(r"mqtts://([^:/]+)", url))}
    certificate = x509.load_pem_x509_certificate((out / "broker/tls/server.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert dialled == {"mosquitto"}
    assert dialled <= set(names.get_values_for_type(x509.DNSName))


def test_a_second_client_with_a_replica_s_id_shows_as_a_takeover(stack: Stack) -> None:
    """The check the tests above rely on does see a takeover when one happens."""
    replica = stack.replicas[0]
    assert takeovers(stack.run.broker_log()) == []
    clone = stack.run.start(replica, as_name=f"{replica}-clone")
    wait_for(
        lambda: stack.client_id(replica) in takeovers(stack.run.broker_log()),
        STARTUP_S,
        "the broker logging the takeover",
    )
    clone.stop()


class LoadPublisher:
    """Meter readings at a steady rate over the twin's gateway account, each (device,
    seq) once; records which ones the broker acknowledged."""

    def __init__(self, address: BrokerAddress, meters: list[tuple[str, str]]):
        self.meters = meters
        self.client = make_client(address, "load-publisher")
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.sent: list[mqtt.MQTTMessageInfo] = []
        self.address = address

    def run(self, seconds: float, rate: int) -> int:
        connect(self.client, self.address)
        self.client.loop_start()
        started = time.monotonic()
        count = int(seconds * rate)
        try:
            for n in range(count):
                zone, device = self.meters[n % len(self.meters)]
                seq = n // len(self.meters)
                payload = {
                    "ts": time.time(),
                    "seq": seq,
                    "activePower": 1.0 + n % 7,
                    "activeEnergyImport": float(n),
                }
                info = self.client.publish(
                    f"territory/{zone}/meter/{device}/telemetry", json.dumps(payload), qos=1
                )
                self.sent.append(info)
                pause = started + (n + 1) / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            for info in self.sent:
                info.wait_for_publish(30)
        finally:
            self.client.loop_stop()
            self.client.disconnect()
        return sum(1 for info in self.sent if info.is_published() and info.rc == 0)


def test_two_replicas_share_a_minute_of_load_with_no_takeover(stack: Stack) -> None:
    """Both replicas, as the compose file starts them, side by side for LOAD_SECONDS under
    a steady load: every acknowledged message stored once, no session taken over."""
    inventory = load_inventory(stack.run.out / "inventory.yaml")
    meters = sorted((d.zone, d.id) for d in inventory.by_id.values() if d.kind == "meter")
    address = BrokerAddress.from_url(
        stack.broker_url("simulator"),
        stack.run.host_account("simulator"),
    )
    acked = LoadPublisher(address, meters).run(LOAD_SECONDS, LOAD_RATE)
    assert acked == int(LOAD_SECONDS * LOAD_RATE)
    wait_for(lambda: stack.readings() >= acked, FLOW_S, "every reading stored")
    assert stack.readings() == acked
    received = [stack.metric(r, "ingest_received_total") for r in stack.replicas]
    stored = [stack.metric(r, "ingest_stored_total") for r in stack.replicas]
    assert sum(received) == acked and sum(stored) == acked  # none twice
    assert all(stack.metric(r, "ingest_duplicates_total") == 0 for r in stack.replicas)
    assert_no_takeover(stack)
