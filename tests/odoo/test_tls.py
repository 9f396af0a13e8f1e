"""TLS: certificates are verified by default; a private CA is trusted through ca_file."""

import ssl

import pytest
import trustme

from adapters.odoo.client import OdooClient
from adapters.odoo.sandbox import OdooSandbox
from adapters.odoo.source import OdooSource
from connector.errors import FatalError
from connector.sync import SyncEngine


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def https_sandbox(ca):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with OdooSandbox(version="17", data="demo", tls=context) as sb:
        yield sb


def source(sb, protocol, **tls):
    client = OdooClient(source="odoo", url=sb.url, database="demo", username="admin", secret=lambda: "admin",
                        protocol=protocol, timeout=10, retry_attempts=1, **tls)
    return OdooSource("odoo", client)


@pytest.mark.parametrize("protocol", ["xmlrpcs", "jsonrpcs"])
def test_untrusted_certificate_is_refused_by_default(https_sandbox, protocol):
    with pytest.raises(FatalError, match="TLS certificate of https://127.0.0.1:\\d+ is not trusted"):
        source(https_sandbox, protocol).open()


@pytest.mark.parametrize("protocol", ["xmlrpcs", "jsonrpcs"])
def test_private_ca_through_ca_file(https_sandbox, ca, tmp_path, protocol, store):
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    src = source(https_sandbox, protocol, ca_file=str(ca_file))
    report = SyncEngine(store).sync_source(src)
    assert sum(s.written for s in report.streams) > 0


def test_verification_can_be_switched_off(https_sandbox):
    info = source(https_sandbox, "xmlrpcs", verify_tls=False).open()
    assert info.server_version == "17.0"
