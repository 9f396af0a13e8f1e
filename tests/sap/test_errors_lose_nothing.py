"""A RETURN error, a SOAP fault, a 401 and a timeout in the middle of a sync: one clear error each,
and nothing lost — the stored open items stay, nothing is swept, the next sync carries on."""

from __future__ import annotations

import pytest

from adapters.sap_soap.errors import ReturnError
from connector.errors import AuthenticationFailed, FatalError, RetryableError, SourceError
from connector.ports import Stream
from connector.store import Store
from connector.sync import SyncEngine

from .conftest import make_client, make_source

SERVICE = "Z_BAPI_AR_ACC_GETOPENITEMS"


def inject_return(sb):
    sb.return_next("ArAccGetopenitems", "E", "F5", "351", "Error in open item selection")


def inject_fault(sb):
    sb.deny_service(SERVICE)  # S_SERVICE missing: SOAP fault soap-env:Server


def inject_401(sb):
    sb.fail_next(401, service=SERVICE)  # one try (retry_attempts=1)


def inject_timeout(sb):
    sb.delay_next(3 * TIMEOUT_CASE_SECONDS, service=SERVICE)


# the client's timeout: long enough for the sync before the fault on a loaded machine (a shorter one timed the
# setup out once); the timeout case waits for it
TIMEOUT_CASE_SECONDS = 2.0
TIMEOUT_SECONDS = 30.0


@pytest.mark.parametrize("inject, kind, says, timeout", [
    (inject_return, ReturnError, "F5 351", TIMEOUT_SECONDS),
    (inject_fault, FatalError, "Authorization missing for service", TIMEOUT_SECONDS),
    (inject_401, AuthenticationFailed, "401", TIMEOUT_SECONDS),
    (inject_timeout, RetryableError, "timed out", TIMEOUT_CASE_SECONDS),
], ids=["return-E", "soap-fault", "http-401", "timeout"])
def test_one_clear_error_and_nothing_lost(sb, tmp_path, inject, kind, says, timeout):
    client = make_client(sb, timeout=timeout)
    store = Store.open(f"sqlite:///{tmp_path / 'sap.db'}")
    try:
        engine = SyncEngine(store, batch_size=10)
        source = make_source(client)
        engine.sync_source(source)
        before = sorted((i.erp_id, i.amount_open) for i in store.iter_invoices("sap"))
        assert before

        inject(sb)
        source.open()
        with pytest.raises(SourceError) as raised:
            engine.sync_stream(source, Stream.INVOICES, full=True)  # full: every customer is asked
        error = raised.value
        assert isinstance(error, kind), repr(error)
        assert says in str(error) and "Traceback" not in str(error)
        assert sorted((i.erp_id, i.amount_open) for i in store.iter_invoices("sap")) == before
        assert store.last_runs("sap", limit=1)[0].status == "failed"

        sb.deny_service(SERVICE, denied=False)
        again = engine.sync_stream(source, Stream.INVOICES, full=True)
        assert (again.written, again.deleted) == (0, 0)
        assert sorted((i.erp_id, i.amount_open) for i in store.iter_invoices("sap")) == before
    finally:
        store.close()
        client.close()
