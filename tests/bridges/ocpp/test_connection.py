"""Who gets in: known charge points with their password, over TLS for profile 2; everyone
else is refused in the websocket handshake."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from websockets.exceptions import InvalidStatus

from tests.bridges.ocpp.certs import client_context, make_certificate
from tests.bridges.ocpp.helpers import (
    BridgeProcess,
    ChargerSpec,
    Listener,
    eventually,
    run,
    write_inventory,
)
from tests.bridges.ocpp.peers import Behaviour, Connector, Station16, Station201
from tests.services import REPO

StartBridge = Callable[..., BridgeProcess]


def station16(spec: ChargerSpec) -> Station16:
    return Station16(spec.cp_id, {1: Connector(spec.max_kw)}, Behaviour())


def test_unknown_charge_point_and_wrong_password_are_refused_at_the_handshake(
    start_bridge: StartBridge,
) -> None:
    known = ChargerSpec("CP-1")
    bridge = start_bridge([known])

    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as unknown:
            await Station16("CP-404", {1: Connector(11)}, Behaviour()).connect(
                bridge.url, "whatever"
            )
        assert unknown.value.response.status_code == 404
        with pytest.raises(InvalidStatus) as wrong:
            await station16(known).connect(bridge.url, known.password + "x")
        assert wrong.value.response.status_code == 401
        right = station16(known)
        await right.connect(bridge.url, known.password)
        await right.boot()
        await right.close()

    run(scenario)
    log = bridge.log()
    assert "unknown charge point CP-404" in log
    assert "CP-1: wrong user or password" in log
    assert known.password not in log


def test_profile_2_needs_tls_and_is_served_over_wss(
    start_bridge: StartBridge, listener: Listener, tmp_path: Path
) -> None:
    secure = ChargerSpec("CP-TLS", security_profile=2)
    plain_bridge = start_bridge([secure])

    async def refused_on_plain() -> None:
        with pytest.raises(InvalidStatus) as plain:
            await station16(secure).connect(plain_bridge.url, secure.password)
        assert plain.value.response.status_code == 403

    run(refused_on_plain)
    plain_bridge.stop()

    cert, key = make_certificate(tmp_path / "tls")
    tls_bridge = start_bridge([secure], tls=(cert, key))
    assert tls_bridge.url.startswith("wss://")

    async def accepted_over_tls() -> None:
        station = Station201(secure.cp_id, {1: Connector(11)}, Behaviour())
        await station.connect(tls_bridge.url, secure.password, tls=client_context(cert))
        await station.boot()
        await station.status(1, "Available")
        topic = f"territory/centre/ev_charger/{secure.device_id()}/telemetry"
        assert await eventually(lambda: bool(listener.on(topic)))
        await station.close()

    run(accepted_over_tls)


def test_no_charge_point_without_a_password_and_no_connector_twice(tmp_path: Path) -> None:
    path = write_inventory(tmp_path, [ChargerSpec("CP-1")], {"f1": 50.0})
    document = yaml.safe_load(path.read_text())
    charger = document["devices"][1]
    del charger["ocpp"]["password_file"]
    path.write_text(yaml.safe_dump(document))
    args = [sys.executable, "-m", "territory", "ocpp", "--listen", "127.0.0.1:1"]
    args += ["--inventory", str(path), "--mqtt", "mqtt://127.0.0.1:1"]
    refused = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "CP-1 has no password_file" in refused.stderr

    twice = {**charger, "id": "ev-twin", "ocpp": {**charger["ocpp"], "password_file": "x"}}
    document["devices"].append(twice)
    path.write_text(yaml.safe_dump(document))
    refused = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "charge point CP-1 connector 1 is already ev-CP-1-1" in refused.stderr
