"""The access matrix of a secured broker, checked where it matters: at the receiving side.

Every principal connects over TLS to its listener, subscribes to every topic of the
matrix and to `#` (one subscription id each, so a delivery says which subscription it
came through), then publishes on every topic. A denied publish is acknowledged by the
broker all the same, so nothing is read from acknowledgements: only deliveries count.

No waiting for something not to happen: once every publish is acknowledged, a last
"sentinel" message goes to each receiver on a topic it may read. The broker queues to a
client in the order it handled the publishes, so when a receiver has its sentinel,
anything the broker was going to deliver to it before has arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from territory import topics
from tests.territory.secure.helpers import (
    CMD_A,
    CMD_B,
    DEAD,
    PLANS,
    TEL_A,
    TEL_B,
    SecuredBroker,
)
from tests.territory.secure.probe import Probe

MATRIX_TOPICS = [TEL_A, TEL_B, CMD_A, CMD_B, PLANS, DEAD]
FILTERS = [*MATRIX_TOPICS, "#"]  # subscription id = index + 1

# What the issue asks for, written out by hand (not derived from the code under test).
MAY_PUBLISH = {
    "dev-a": {TEL_A},
    "dev-b": {TEL_B},
    "ingest": {DEAD},
    "optimiser": {CMD_A, CMD_B, PLANS},
    "console": set(),
    "simulator": {TEL_A, TEL_B},
}
MAY_READ = {
    "dev-a": {CMD_A},
    "dev-b": {CMD_B},
    "ingest": {TEL_A, TEL_B},
    "optimiser": {TEL_A, TEL_B},
    "console": {TEL_A, TEL_B, PLANS, DEAD},
    "simulator": {CMD_A, CMD_B},
}
# (publisher, topic) of each receiver's sentinel: a topic the receiver may read.
SENTINELS = {
    "dev-a": ("optimiser", CMD_A),
    "dev-b": ("optimiser", CMD_B),
    "ingest": ("dev-a", TEL_A),
    "optimiser": ("dev-a", TEL_A),
    "console": ("dev-a", TEL_A),
    "simulator": ("optimiser", CMD_A),
}

Cell = tuple[str, str, str, str]  # (receiver, subscription filter, topic, publisher)


def expected_deliveries() -> set[Cell]:
    cells = set()
    for publisher, published in MAY_PUBLISH.items():
        for topic in published:
            for receiver, readable in MAY_READ.items():
                if topic not in readable:
                    continue
                for topic_filter in FILTERS:
                    if topics_match(topic_filter, topic):
                        cells.add((receiver, topic_filter, topic, publisher))
    return cells


def topics_match(topic_filter: str, topic: str) -> bool:
    return topic_filter == "#" or topic_filter == topic


@contextmanager
def principals(secured: SecuredBroker) -> Iterator[dict[str, Probe]]:
    probes = {name: Probe(secured.address(name), f"matrix-{name}") for name in MAY_PUBLISH}
    try:
        for name, probe in probes.items():
            assert probe.open() == "accepted", name
        yield probes
    finally:
        for probe in probes.values():
            probe.close()


def test_every_principal_reads_and_writes_exactly_what_the_matrix_allows(
    secured: SecuredBroker,
) -> None:
    with principals(secured) as probes:
        for probe in probes.values():
            probe.subscribe(FILTERS)
        for name, probe in probes.items():
            for topic in MATRIX_TOPICS:
                probe.publish(topic, f"{name}|{topic}")
        for receiver, (publisher, topic) in SENTINELS.items():
            probes[publisher].publish(topic, f"sentinel:{receiver}")
        for receiver, probe in probes.items():
            assert probe.wait_for(f"sentinel:{receiver}"), f"{receiver} got no sentinel"

        delivered: set[Cell] = set()
        for receiver, probe in probes.items():
            for message in probe.messages():
                if message.payload.startswith("sentinel:"):
                    continue
                publisher, topic = message.payload.split("|")
                assert topic == message.topic
                for subscription in message.subscriptions:
                    delivered.add((receiver, FILTERS[subscription - 1], topic, publisher))

    expected = expected_deliveries()
    assert delivered - expected == set(), "leaks: delivered but not allowed"
    assert expected - delivered == set(), "allowed but not delivered"
    # Every allowed publish reached somebody: no allowed case is vacuous.
    assert {(c[3], c[2]) for c in delivered} == {
        (p, t) for p, published in MAY_PUBLISH.items() for t in published
    }


def test_anonymous_clients_and_wrong_passwords_are_refused_on_every_listener(
    secured: SecuredBroker,
) -> None:
    for port in (secured.result.port, secured.result.service_port):
        assert Probe(secured.anonymous(port)).open().startswith("refused"), port
    for name in ("dev-a", "ingest"):
        wrong = secured.address(name).model_copy(update={"password": SecretStr("guess")})
        assert Probe(wrong).open().startswith("refused"), name


def test_each_listener_knows_only_its_own_accounts(secured: SecuredBroker) -> None:
    device_on_services = secured.address("dev-a", port=secured.result.service_port)
    ingest_on_field = secured.address("ingest", port=secured.result.port)
    assert Probe(device_on_services).open().startswith("refused")
    assert Probe(ingest_on_field).open().startswith("refused")


def test_a_device_cannot_take_over_a_service_session(secured: SecuredBroker) -> None:
    """mosquitto keys sessions by client id alone: on the field listener the client id
    is the user name, so a device asking for ingest's id gets its own session."""
    ingest_id = "territory-ingest-takeover-test"
    ingest = Probe(secured.address("ingest"), ingest_id, persistent=True)
    assert ingest.open(session_expiry_s=600) == "accepted"
    ingest.subscribe([topics.TELEMETRY_FILTER])
    ingest.close()  # offline: the broker queues telemetry for it
    device_a = Probe(secured.address("dev-a"), "")
    assert device_a.open() == "accepted"
    device_a.publish(TEL_A, "queued-for-ingest")
    device_a.close()

    thief = Probe(secured.address("dev-a"), ingest_id, persistent=True)
    assert thief.open(session_expiry_s=600) == "accepted"
    thief.subscribe([CMD_A])
    optimiser = Probe(secured.address("optimiser"))
    assert optimiser.open() == "accepted"
    optimiser.publish(CMD_A, "sentinel")
    optimiser.close()
    assert thief.wait_for("sentinel")
    thief.close()
    assert [m.payload for m in thief.messages()] == ["sentinel"]

    owner = Probe(secured.address("ingest"), ingest_id, persistent=True)
    assert owner.open(session_expiry_s=600) == "accepted"
    assert owner.wait_for("queued-for-ingest")
    owner.close()
    assert Probe(secured.address("ingest"), ingest_id).open() == "accepted"  # ends the session


def test_retained_commands_are_not_kept(secured: SecuredBroker) -> None:
    optimiser = Probe(secured.address("optimiser"))
    assert optimiser.open() == "accepted"
    # retain_available false: the broker drops a client that asks it to retain.
    assert optimiser.publish_retained(CMD_A, "retained-set-point") == "disconnected"
    optimiser.close()

    device_a = Probe(secured.address("dev-a"))
    assert device_a.open() == "accepted"
    device_a.subscribe([CMD_A])
    sender = Probe(secured.address("optimiser"))
    assert sender.open() == "accepted"
    sender.publish(CMD_A, "sentinel")
    sender.close()
    assert device_a.wait_for("sentinel")
    device_a.close()
    assert [m.payload for m in device_a.messages()] == ["sentinel"]
