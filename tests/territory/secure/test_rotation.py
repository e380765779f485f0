"""Rotating one account's credentials on a running broker leaves every other one working."""

from __future__ import annotations

from territory.inventory import load_inventory
from territory.secure import secure_init
from tests.ingest.helpers import wait_until
from tests.territory.secure.helpers import SecuredBroker
from tests.territory.secure.probe import Probe


def test_rotating_a_device_refuses_its_old_password_only(fresh_secured: SecuredBroker) -> None:
    old_a, old_b = fresh_secured.address("dev-a"), fresh_secured.address("dev-b")
    assert Probe(old_a).open() == "accepted"
    b_file = fresh_secured.account("dev-b").read_bytes()

    inventory = load_inventory(fresh_secured.folder.parent / "inventory.yaml")
    options = fresh_secured.options.model_copy(update={"rotate": ["dev-a"]})
    secure_init(inventory, options)
    fresh_secured.broker.reload()

    new_a = fresh_secured.address("dev-a")
    assert new_a.password != old_a.password
    # The reload is asynchronous: wait (bounded) for the new password to be known.
    assert wait_until(lambda: Probe(new_a).open() == "accepted", 15)
    assert Probe(old_a).open().startswith("refused")
    assert fresh_secured.account("dev-b").read_bytes() == b_file
    assert Probe(old_b).open() == "accepted"
    assert Probe(fresh_secured.address("ingest")).open() == "accepted"
