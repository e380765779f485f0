"""`territory secure init`: the files it writes, their modes, and what a re-run keeps."""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from territory.inventory import load_inventory
from territory.secure import load_account, secure_init
from territory.secure.passwords import hash_password, read_password_file, verify
from territory.secure.principals import PrincipalError
from territory.shell.cli import app
from tests.services import REPO, find_binary
from tests.territory.secure.helpers import CMD_A, INVENTORY, TEL_A, init_options, write_inventory

runner = CliRunner()
SERVICES = {"ingest", "optimiser", "console", "simulator"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every credential-bearing file's bytes."""
    files = [*sorted((folder / "accounts").glob("*.json")), *sorted(folder.glob("*.passwd"))]
    return {str(path.relative_to(folder)): path.read_bytes() for path in files}


def test_init_from_a_scenario_prints_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "broker"
    scenario = str(REPO / "config/territories/demo.yaml")
    options = ["--out", str(out), "--port", "18883", "--host", "mqtt.example.org"]
    result = runner.invoke(app, ["secure", "init", "--inventory", scenario, *options])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["mosquitto_conf"] == str(out / "mosquitto.conf")
    assert printed["ca_cert"] == str(out / "tls/ca.crt")
    assert (printed["port"], printed["service_port"]) == (18883, 18884)
    inventory = load_inventory(REPO / "config/territories/demo.yaml")
    assert set(printed["accounts"]) == set(inventory.by_id) | SERVICES
    for path in printed["accounts"].values():
        assert oct(Path(path).stat().st_mode & 0o777) == "0o600"
        assert set(json.loads(Path(path).read_text())) == {
            "username",
            "password",
            "ca_cert",
            "port",
            "topics",
        }
    for secret in ("field.passwd", "services.passwd", "tls/ca.key", "tls/server.key"):
        assert oct((out / secret).stat().st_mode & 0o777) == "0o600", secret


def test_the_conf_refuses_anonymous_clients_and_keeps_plaintext_on_loopback(
    tmp_path: Path,
) -> None:
    options = init_options(tmp_path / "broker", local_port=18999)
    result = secure_init(load_inventory(write_inventory(tmp_path)), options)
    conf = Path(result.mosquitto_conf).read_text()
    listeners = [line for line in conf.splitlines() if line.startswith("listener ")]
    assert listeners == [
        f"listener {result.port}",
        f"listener {result.service_port}",
        "listener 18999 127.0.0.1",
    ]
    assert conf.count("allow_anonymous false") == 3 and "allow_anonymous true" not in conf
    assert conf.count("certfile ") == 2  # both non-loopback listeners speak TLS
    for option in ("retain_available false", "max_queued_messages 2000000", "max_packet_size"):
        assert option in conf
    assert f"persistence_location {tmp_path / 'broker' / 'data'}/" in conf


def test_a_device_account_holds_its_own_topics_only(tmp_path: Path) -> None:
    result = secure_init(
        load_inventory(write_inventory(tmp_path)), init_options(tmp_path / "broker")
    )
    account, ca = load_account(result.accounts["dev-a"])
    assert account.username == "dev-a" and account.port == result.port
    assert ca == Path(result.ca_cert)
    assert (account.topics.publish, account.topics.subscribe) == ([TEL_A], [CMD_A])
    acl = (tmp_path / "broker" / "field.acl").read_text()
    section = acl.split("user dev-a\n")[1].split("\n\n")[0]
    assert section.splitlines() == [f"topic write {TEL_A}", f"topic read {CMD_A}"]
    hashes = read_password_file(tmp_path / "broker" / "field.passwd")
    assert verify(account.password.get_secret_value(), hashes["dev-a"])
    assert not verify("guess", hashes["dev-a"])
    assert "dev-a" not in read_password_file(tmp_path / "broker" / "services.passwd")


def test_hashes_are_mosquitto_passwd_s_own(tmp_path: Path) -> None:
    password_file = tmp_path / "passwd"
    tool = find_binary("mosquitto_passwd")
    subprocess.run([tool, "-b", "-c", str(password_file), "alice", "s3cret"], check=True)
    line = read_password_file(password_file)["alice"]
    assert line.startswith("$7$101$")
    assert verify("s3cret", line)
    salt = __import__("base64").b64decode(line.split("$")[3])
    assert hash_password("s3cret", salt) == line


def test_a_rerun_keeps_every_credential_and_rotate_reissues_one(tmp_path: Path) -> None:
    inventory = load_inventory(write_inventory(tmp_path))
    options = init_options(tmp_path / "broker")
    secure_init(inventory, options)
    before = snapshot(tmp_path / "broker")
    secure_init(inventory, options)
    assert snapshot(tmp_path / "broker") == before

    secure_init(inventory, options.model_copy(update={"rotate": ["dev-a"]}))
    after = snapshot(tmp_path / "broker")
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"accounts/dev-a.json", "field.passwd"}
    old_lines = before["field.passwd"].decode().splitlines()
    new_lines = after["field.passwd"].decode().splitlines()
    assert [a == b for a, b in zip(old_lines, new_lines, strict=True)].count(False) == 1


def test_rotate_names_an_existing_account(tmp_path: Path) -> None:
    inventory = load_inventory(write_inventory(tmp_path))
    with pytest.raises(ValueError, match="no account named dev-z"):
        secure_init(inventory, init_options(tmp_path / "broker", rotate=["dev-z"]))


def test_a_device_removed_from_the_inventory_loses_its_account(tmp_path: Path) -> None:
    secure_init(load_inventory(write_inventory(tmp_path)), init_options(tmp_path / "broker"))
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(INVENTORY.replace("  - {id: dev-b, kind: ev_charger", "  # - {id: dev-b"))
    secure_init(load_inventory(smaller), init_options(tmp_path / "broker"))
    assert not (tmp_path / "broker/accounts/dev-b.json").exists()
    assert "dev-b" not in read_password_file(tmp_path / "broker/field.passwd")
    assert "dev-b" not in (tmp_path / "broker/field.acl").read_text()


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("dev-a", "ingest", "kept for the platform"),
        ("dev-a", "territory-ingest-x", "kept for the platform"),
        ("north", "plans", "plans and dead letters"),
    ],
)
def test_ids_that_would_collide_with_the_platform_are_refused(
    tmp_path: Path, replace: str, by: str, message: str
) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.replace(replace, by))
    with pytest.raises(PrincipalError, match=message):
        secure_init(load_inventory(path), init_options(tmp_path / "broker"))


def test_the_broker_user_is_named_in_the_conf(tmp_path: Path) -> None:
    me = pwd.getpwuid(os.geteuid()).pw_name
    options = init_options(tmp_path / "broker", broker_user=me)
    result = secure_init(load_inventory(write_inventory(tmp_path)), options)
    assert f"\nuser {me}\n" in Path(result.mosquitto_conf).read_text()


def test_a_container_root_names_every_path_as_the_containers_see_it(tmp_path: Path) -> None:
    """The folder mounted at /etc/territory/broker: mosquitto.conf and the account files
    name their paths there; what the command prints stays on this host; a re-run keeps
    every credential, though no account's CA path exists on this host."""
    inventory = load_inventory(write_inventory(tmp_path))
    out = tmp_path / "broker"
    options = init_options(out, container_root="/etc/territory/broker")
    result = secure_init(inventory, options)
    conf = Path(result.mosquitto_conf).read_text()
    paths = re.findall(
        r"^(?:certfile|keyfile|cafile|password_file|acl_file|persistence_location) (\S+)",
        conf,
        flags=re.M,
    )
    assert len(paths) == 11 and all(p.startswith("/etc/territory/broker/") for p in paths)
    assert str(tmp_path) not in conf
    for account in result.accounts.values():
        assert (
            json.loads(Path(account).read_text())["ca_cert"] == "/etc/territory/broker/tls/ca.crt"
        )
    assert result.ca_cert == str(out / "tls/ca.crt")
    before = snapshot(out)
    secure_init(inventory, options)
    assert snapshot(out) == before


def test_a_container_root_is_absolute(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="absolute"):
        init_options(tmp_path / "broker", container_root="etc/territory")


def test_the_certificate_holds_the_other_names_asked_for(tmp_path: Path) -> None:
    inventory = load_inventory(write_inventory(tmp_path))
    options = init_options(tmp_path / "broker", host="mqtt.example.org", alt_names=["mosquitto"])
    secure_init(inventory, options)
    certificate = x509.load_pem_x509_certificate((tmp_path / "broker/tls/server.crt").read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"mqtt.example.org", "mosquitto", "localhost"} <= set(
        names.get_values_for_type(x509.DNSName)
    )
