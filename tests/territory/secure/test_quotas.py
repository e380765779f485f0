"""The broker's bounds on a misbehaving client, and its plaintext listener on loopback."""

from __future__ import annotations

from pathlib import Path

from territory import topics
from territory.bus import BrokerAddress
from territory.secure.broker_conf import BrokerLimits
from tests.territory.secure.helpers import TEL_A, SecuredBroker, start_secured
from tests.territory.secure.probe import Probe


def test_an_oversized_packet_disconnects_its_sender_and_goes_nowhere(
    secured: SecuredBroker,
) -> None:
    console = Probe(secured.address("console"))
    assert console.open() == "accepted"
    console.subscribe([TEL_A])
    device_a = Probe(secured.address("dev-a"))
    assert device_a.open() == "accepted"
    device_a.client.publish(TEL_A, b"x" * (3 << 20), qos=1)  # over max_packet_size (2 MiB)
    assert device_a.disconnected.wait(10)
    device_a.close()
    sender = Probe(secured.address("dev-a"))
    assert sender.open() == "accepted"
    sender.publish(TEL_A, "sentinel")
    sender.close()
    assert console.wait_for("sentinel")
    console.close()
    assert [m.payload for m in console.messages()] == ["sentinel"]


def test_the_queue_for_an_absent_client_is_bounded(tmp_path: Path) -> None:
    running = start_secured(tmp_path, limits=BrokerLimits(max_queued_messages=5))
    try:
        ingest_id = "territory-ingest-quota-test"
        ingest = Probe(running.address("ingest"), ingest_id, persistent=True)
        assert ingest.open(session_expiry_s=600) == "accepted"
        ingest.subscribe([topics.TELEMETRY_FILTER])
        ingest.close()
        device_a = Probe(running.address("dev-a"))
        assert device_a.open() == "accepted"
        for seq in range(20):
            device_a.publish(TEL_A, f"reading-{seq}")
        device_a.close()
        back = Probe(running.address("ingest"), ingest_id, persistent=True)
        assert back.open(session_expiry_s=600) == "accepted"
        device_a = Probe(running.address("dev-a"))
        assert device_a.open() == "accepted"
        device_a.publish(TEL_A, "sentinel")
        device_a.close()
        assert back.wait_for("sentinel")
        back.close()
        # The oldest were kept, up to the bound; the rest were dropped.
        queued = [m.payload for m in back.messages() if m.payload != "sentinel"]
        assert 1 <= len(queued) <= 5 and queued == [f"reading-{i}" for i in range(len(queued))]
    finally:
        running.broker.stop()


def test_the_loopback_listener_takes_service_accounts_only(secured: SecuredBroker) -> None:
    port = secured.result.local_port
    assert port is not None
    ingest = secured.address("ingest")
    plain = BrokerAddress.from_url(f"mqtt://127.0.0.1:{port}", secured.account("ingest"))
    assert not plain.tls and plain.username == ingest.username
    assert Probe(plain).open() == "accepted"
    device = BrokerAddress.from_url(f"mqtt://127.0.0.1:{port}", secured.account("dev-a"))
    assert Probe(device).open().startswith("refused")
    assert Probe(secured.anonymous(port, tls=False)).open().startswith("refused")
