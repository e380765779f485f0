"""TLS on the secured broker: the CA lets a client in; no CA, or plaintext, does not."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from territory.bus import BrokerAddress
from territory.secure.pki import ensure_tls
from tests.territory.secure.helpers import SecuredBroker
from tests.territory.secure.probe import Probe


def test_a_client_with_the_ca_connects(secured: SecuredBroker) -> None:
    address = secured.address("ingest")
    assert address.tls and address.ca_cert == Path(secured.result.ca_cert)
    assert Probe(address).open() == "accepted"


def test_a_client_without_the_ca_does_not_trust_the_broker(secured: SecuredBroker) -> None:
    without_ca = secured.address("ingest").model_copy(update={"ca_cert": None})
    outcome = Probe(without_ca).open()
    assert outcome.startswith("failed") and "CERTIFICATE_VERIFY_FAILED" in outcome


def test_plaintext_on_a_tls_port_gets_no_session(secured: SecuredBroker) -> None:
    for name, port in (("dev-a", secured.result.port), ("ingest", secured.result.service_port)):
        account = secured.address(name)
        # The password would go in clear: only to loopback, which this is.
        plaintext = BrokerAddress.from_url(f"mqtt://127.0.0.1:{port}").model_copy(
            update={"username": account.username, "password": account.password}
        )
        outcome = Probe(plaintext).open()
        assert outcome.startswith(("closed", "failed")), (name, outcome)


def test_the_server_certificate_names_the_host_localhost_and_loopback(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path, ["broker.example.org", "localhost", "127.0.0.1"])
    certificate = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"broker.example.org", "localhost"}
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    certificate.verify_directly_issued_by(ca)
    assert oct(files.server_key.stat().st_mode & 0o777) == "0o600"
    assert oct(files.ca_key.stat().st_mode & 0o777) == "0o600"


def test_a_rerun_keeps_the_ca_and_reissues_the_server_certificate_for_new_names(
    tmp_path: Path,
) -> None:
    first = ensure_tls(tmp_path, ["a.example", "127.0.0.1"])
    ca_before, cert_before = first.ca_cert.read_bytes(), first.server_cert.read_bytes()
    ensure_tls(tmp_path, ["a.example", "127.0.0.1"])
    assert first.server_cert.read_bytes() == cert_before
    ensure_tls(tmp_path, ["b.example", "127.0.0.1"])
    assert first.ca_cert.read_bytes() == ca_before
    assert first.server_cert.read_bytes() != cert_before
