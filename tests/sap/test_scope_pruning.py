"""A customer that leaves SAP's customer list and comes back is read again, not taken as unchanged."""

from __future__ import annotations

from connector.store import Store
from connector.sync import SyncEngine

from .conftest import make_source


def test_a_customer_gone_and_back_has_its_records_again(sb, client, tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'sap.db'}")
    try:
        engine = SyncEngine(store, batch_size=10)
        engine.sync_source(make_source(client))
        customer = "0000100002"
        items = sum(1 for i in store.iter_invoices("sap") if i.customer_id == customer)
        assert items > 0

        parked = sb.data.customers.pop(customer)  # e.g. archived and restored
        engine.sync_source(make_source(client))
        assert not any(i.customer_id == customer for i in store.iter_invoices("sap"))

        sb.data.customers[customer] = parked  # back, with the same credit-master totals
        stats = {s.stream: s for s in engine.sync_source(make_source(client)).streams}
        assert sum(1 for i in store.iter_invoices("sap") if i.customer_id == customer) == items
        assert stats["invoices"].written == items
    finally:
        store.close()
