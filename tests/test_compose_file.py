"""docker-compose.yml and the Dockerfile read as data: every command and variable is one
the platform knows, no secret is written in them, and the image holds every package.
(tests/test_compose.py runs the services themselves.)"""

from __future__ import annotations

import copy
import re
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from tests.compose import command_of, environment_of, load_compose, mounts_of
from tests.compose_checks import parse_command, problems, unknown_variables
from tests.services import REPO

OWNER = {"TERRITORY_UID": "1000", "TERRITORY_GID": "1000"}
SECRET_WORDS = re.compile(r"PASSWORD|TOKEN|SECRET", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(OWNER)


def territory_services(compose: dict[str, Any]) -> list[str]:
    return [
        name for name, spec in compose["services"].items() if command_of(spec)[:1] == ["territory"]
    ]


def test_every_command_and_variable_is_one_the_platform_knows(compose: dict[str, Any]) -> None:
    assert set(territory_services(compose)) >= {
        "ingest-1",
        "ingest-2",
        "optimiser",
        "dashboard",
        "simulator",
    }
    assert problems(compose) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["ingest-1"].update(command=s["ingest-1"]["command"] + " --batchsize 5"),
            "ingest-1: territory ingest .*No such option: --batchsize",
        ),
        (
            lambda s: s["optimiser"].update(command="territory optimize --every 60s"),
            "optimiser: .*no command 'optimize'",
        ),
        (
            lambda s: s["ingest-2"]["environment"].update(TERRITORY_INGEST__REPLICAS="2"),
            "ingest-2: nothing reads TERRITORY_INGEST__REPLICAS",
        ),
        (
            lambda s: s["dashboard"]["environment"].update(TERRITORY_INFLUX_PASSWORD_FILES="x"),
            "dashboard: nothing reads TERRITORY_INFLUX_PASSWORD_FILES",
        ),
        (
            lambda s: s["simulator"].update(secrets=[]),
            "simulator: /run/secrets/mqtt_simulator is not one of its secrets",
        ),
    ],
)
def test_a_flag_or_variable_nobody_knows_is_named(
    compose: dict[str, Any], change: Any, expected: str
) -> None:
    broken = copy.deepcopy(compose)
    change(broken["services"])
    found = problems(broken)
    assert len(found) == 1 and re.match(expected, found[0]), found


def test_the_checks_know_the_settings_and_the_store_s_credentials() -> None:
    assert parse_command(["ingest", "--replica", "2"])["replica"] == "2"
    assert (
        unknown_variables(
            {
                "TERRITORY_INGEST__BATCH_SIZE": "1",
                "TERRITORY_INFLUX_TOKEN_FILE": "f",
                "TERRITORY_CONFIG": "c",
                "PATH": "/bin",
            }
        )
        == []
    )


def test_no_credential_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    """Passwords and tokens come from files: a variable naming one ends in _FILE, and
    no command takes one as an option."""
    for name, spec in compose["services"].items():
        for variable in environment_of(spec):
            if SECRET_WORDS.search(variable):
                assert variable.endswith("_FILE"), f"{name}: {variable}"
        options = [arg for arg in command_of(spec) if arg.startswith("-")]
        assert not any(SECRET_WORDS.search(option) for option in options), name


def test_every_secret_is_a_file_the_repository_never_holds(compose: dict[str, Any]) -> None:
    ignored = (REPO / ".gitignore").read_text().split()
    docker_ignored = (REPO / ".dockerignore").read_text().split()
    assert "var/" in ignored and "var/" in docker_ignored and ".env" in docker_ignored
    for name, secret in compose["secrets"].items():
        assert secret["file"].startswith("./var/compose/"), name
    assert not _tracked("var") and not _tracked(".env")


def _tracked(path: str) -> bool:
    listed = subprocess.run(["git", "ls-files", path], cwd=REPO, capture_output=True, text=True)
    return bool(listed.stdout.strip())


def test_the_owner_of_the_secrets_must_be_given() -> None:
    """Without the .env `territory secure compose` writes, compose stops and says so."""
    with pytest.raises(ValueError, match="territory secure compose"):
        load_compose({})


def test_grafana_reads_its_passwords_from_its_secrets(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounted = mounts_of(compose, "grafana")
    assert environment_of(grafana)["GF_SECURITY_ADMIN_PASSWORD__FILE"] in mounted
    datasource = yaml.safe_load(
        (REPO / "config/grafana/provisioning/datasources/influxdb.yaml").read_text()
    )["datasources"][0]
    assert "password" not in datasource and "basicAuthPassword" not in datasource
    reference = datasource["secureJsonData"]["password"]
    path = re.fullmatch(r"\$__file\{(/run/secrets/[^}]+)\}", reference)
    assert path is not None and path.group(1) in mounted
    influxdb = environment_of(compose["services"]["influxdb"])
    assert datasource["user"] == influxdb["INFLUXDB_READ_USER"]
    assert (
        mounted[path.group(1)]
        == mounts_of(compose, "influxdb")[influxdb["INFLUXDB_READ_USER_PASSWORD_FILE"]]
    )


def test_the_platform_reads_influxdb_as_the_user_the_image_creates(
    compose: dict[str, Any],
) -> None:
    influxdb = environment_of(compose["services"]["influxdb"])
    assert influxdb["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    admins = []
    for name in territory_services(compose):
        env = environment_of(compose["services"][name])
        if "TERRITORY_STORE_URL" not in env:
            continue
        # The maintainer alone is InfluxDB's admin (retention policies are admin work).
        role = (
            "ADMIN" if env["TERRITORY_INFLUX_USERNAME"] == influxdb["INFLUXDB_ADMIN_USER"] else ""
        )
        if role:
            admins.append(name)
        user = influxdb[f"INFLUXDB_{role or 'USER'}{'_USER' if role else ''}"]
        assert env["TERRITORY_INFLUX_USERNAME"] == user, name
        mine = mounts_of(compose, name)[env["TERRITORY_INFLUX_PASSWORD_FILE"]]
        theirs = influxdb[f"INFLUXDB_{role + '_' if role else 'USER_'}PASSWORD_FILE"]
        assert mine == mounts_of(compose, "influxdb")[theirs], name
    assert admins == ["maintain"]


def test_the_image_holds_every_package_of_the_distribution() -> None:
    """Each top-level package pyproject.toml ships (its packages.find include) is copied
    into the image, and so is the configuration folder."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in included}
    dockerfile = (REPO / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \1/?$", dockerfile, flags=re.M))
    assert packages and all((REPO / package / "__init__.py").exists() for package in packages)
    assert packages | {"config"} <= copied, sorted(packages - copied)
    on_disk = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert on_disk <= packages, f"packages not shipped: {sorted(on_disk - packages)}"


# Service attributes of the Compose Specification that this file may use: a misspelt one
# (`secret:`, `enviroment:`) fails here, where no `docker compose up` runs to refuse it.
SERVICE_KEYS = {
    "build",
    "command",
    "depends_on",
    "entrypoint",
    "environment",
    "healthcheck",
    "hostname",
    "image",
    "ports",
    "profiles",
    "restart",
    "secrets",
    "user",
    "volumes",
}


def test_every_key_is_one_compose_knows(compose: dict[str, Any]) -> None:
    assert {key for key in compose if not key.startswith("x-")} == {
        "services",
        "secrets",
        "volumes",
    }
    for name, spec in compose["services"].items():
        assert set(spec) <= SERVICE_KEYS, f"{name}: {sorted(set(spec) - SERVICE_KEYS)}"
        for secret in spec.get("secrets") or []:
            assert secret in compose["secrets"], f"{name}: no secret {secret}"
        for other in spec.get("depends_on") or []:
            assert other in compose["services"], f"{name}: depends on {other}"
