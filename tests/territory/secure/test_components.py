"""Every component that speaks MQTT, over TLS with an account file: the address, the
optimiser's publisher, the twin's gateway, and ingest and the simulator as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devices.gateway import MqttGateway
from devices.inventory import accept_scenarios
from optimiser.publish import Publisher
from territory.bus import BrokerAddress, default_client_id
from territory.inventory import load_inventory
from territory.secure import load_account, secure_init
from territory.store.sqlite import SqliteStore
from tests.devices.helpers import tiny_document
from tests.ingest.harness import IngestProcess
from tests.ingest.helpers import wait_until
from tests.services import ConfiguredMosquitto
from tests.territory.secure.helpers import CMD_B, TEL_A, SecuredBroker, init_options
from tests.territory.secure.probe import Probe

TERRITORY = str(Path(sys.executable).parent / "territory")


def test_a_password_never_shows_in_the_address(secured: SecuredBroker) -> None:
    address = secured.address("ingest")
    password = address.password_text()
    assert password and password not in repr(address) and password not in address.url
    assert password not in str(address) and password not in address.model_dump_json()
    assert address.url == f"mqtts://127.0.0.1:{secured.result.service_port}?protocol=5 as ingest"


def test_an_mqtts_url_without_a_port_takes_the_account_s(secured: SecuredBroker) -> None:
    address = BrokerAddress.from_url("mqtts://127.0.0.1", secured.account("dev-a"))
    assert (address.tls, address.port) == (True, secured.result.port)


def test_a_password_in_the_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="--mqtt-auth") as refused:
        BrokerAddress.from_url("mqtts://user:hunter2@broker.example:8883")
    assert "hunter2" not in str(refused.value)


def test_credentials_go_in_clear_to_loopback_only(secured: SecuredBroker) -> None:
    account = secured.account("ingest")
    with pytest.raises(ValueError, match="unencrypted"):
        BrokerAddress.from_url("mqtt://broker.example:1883", account)
    assert BrokerAddress.from_url("mqtt://127.0.0.1:1883", account).username == "ingest"


def test_client_ids_are_per_host_and_replica() -> None:
    assert default_client_id("ingest").startswith("territory-ingest-")
    assert default_client_id("ingest") == default_client_id("ingest")
    assert default_client_id("ingest", "2") == default_client_id("ingest") + "-2"
    assert default_client_id("optimiser", per_process=True) != default_client_id("optimiser")


def test_the_optimiser_publishes_commands_over_tls(secured: SecuredBroker) -> None:
    device_b = Probe(secured.address("dev-b"))
    assert device_b.open() == "accepted"
    device_b.subscribe([CMD_B])
    publisher = Publisher(secured.address("optimiser"))
    publisher.publish(CMD_B, {"setpointKw": 7.4})
    publisher.flush()
    publisher.close()
    assert device_b.wait_for('{"setpointKw":7.4}')
    device_b.close()


def test_the_gateway_speaks_tls_both_ways(secured: SecuredBroker) -> None:
    console = Probe(secured.address("console"))
    assert console.open() == "accepted"
    console.subscribe([TEL_A])
    gateway = MqttGateway(secured.address("simulator"), "territory-sim-test")
    gateway.start()
    try:
        for seq in range(50):
            gateway.publish(TEL_A, json.dumps({"seq": seq}).encode())
        gateway.poll(0.0)
        assert console.wait_for('{"seq": 49}')
        # The gateway's network is served from the caller's thread: poll while waiting.
        assert wait_until(lambda: gateway.poll(0.01) or gateway.acked == 50, 10)
        optimiser = Probe(secured.address("optimiser"))
        assert optimiser.open() == "accepted"
        optimiser.publish(CMD_B, "set-point")
        optimiser.close()
        commands: list[tuple[str, bytes]] = []
        assert wait_until(lambda: bool(commands.extend(gateway.drain()) or commands), 10)
        assert commands == [(CMD_B, b"set-point")]
    finally:
        gateway.close()
        console.close()
    assert [m.payload for m in console.messages()] == [
        json.dumps({"seq": seq}) for seq in range(50)
    ]


def test_simulator_and_ingest_run_the_secured_shape_end_to_end(tmp_path: Path) -> None:
    """`territory simulate` and `territory ingest` as a user starts them, mqtts and
    account files only; every reading the twin published is stored, and no log line
    carries a password."""
    accept_scenarios()
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(tiny_document()))
    result = secure_init(load_inventory(scenario), init_options(tmp_path / "broker"))
    broker = ConfiguredMosquitto(
        Path(result.mosquitto_conf), [result.port, result.service_port], tmp_path / "mq.log"
    )
    broker.start()
    db = tmp_path / "territory.db"
    ingest = IngestProcess(
        f"mqtts://127.0.0.1:{result.service_port}",
        f"sqlite:///{db}",
        tmp_path / "ingest.log",
        extra=["--mqtt-auth", result.accounts["ingest"]],
    )
    try:
        ingest.start()
        broker_options = ["--mqtt", f"mqtts://localhost:{result.port}"]
        broker_options += ["--mqtt-auth", result.accounts["simulator"]]
        run_options = ["--territory", str(scenario), "--duration", "2s", "--seed", "4"]
        simulated = subprocess.run(
            [TERRITORY, "simulate", *broker_options, *run_options],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert simulated.returncode == 0, simulated.stderr
        summary = json.loads(simulated.stdout.strip().splitlines()[-1])
        published = sum(summary["published"].values())
        assert published > 0 and summary["gateway"]["acked"] == published
        store = SqliteStore(db)
        try:
            assert wait_until(lambda: store.stats().readings == published, 20)
        finally:
            store.close()
    finally:
        ingest.stop()
        broker.stop()
    logs = simulated.stdout + simulated.stderr + (tmp_path / "ingest.log").read_text()
    logs += (tmp_path / "mq.log").read_text()
    for account_file in result.accounts.values():
        password = load_account(account_file)[0].password.get_secret_value()
        assert password not in logs


def test_console_runs_inherit_the_account_file_not_the_password(
    secured: SecuredBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard.cli import _hand_broker_account_to_runs
    from territory.settings import AUTH_FILE_ENV, load_settings

    monkeypatch.setenv(AUTH_FILE_ENV, "unset")  # restored after the test
    account = secured.account("optimiser")
    _hand_broker_account_to_runs(f"mqtts://127.0.0.1:{secured.result.service_port}", account)
    assert os.environ[AUTH_FILE_ENV] == str(account)
    assert load_settings().mqtt_auth_file == account  # what a triggered run reads
    password = load_account(account)[0].password.get_secret_value()
    assert all(password not in value for value in os.environ.values())
