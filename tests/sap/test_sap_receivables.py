"""SAP's open items as receivable items, into SQLite and PostgreSQL: exposure from them is the exposure from the
open items as invoices (both are per due date), overdue invoices are counted per document, and an unchanged cycle
reads nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.exposure import ExposureCalculator
from connector.ports import Stream
from connector.store import Store
from connector.sync import SyncEngine
from policy.model import Conversion, ExposureSettings

from .conftest import TODAY
from .conftest import make_source as make_sap_source


def make_source(client):
    return make_sap_source(client, clock=lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC))

def figures(store: Store):
    # at the day's rates: the sandbox's open items go back further than the rate history read
    settings = ExposureSettings(conversion=Conversion.TODAY)
    return ExposureCalculator(store, settings, "EUR", TODAY).compute("sap", None, overdue_days=30)


def test_exposure_from_items_equals_exposure_from_open_items(sb, client, store, tmp_path):
    engine = SyncEngine(store)
    report = engine.sync_source(make_source(client))
    assert not report.errors
    assert store.has_receivables("sap") and store.count(Stream.RECEIVABLES, "sap") == store.count(Stream.INVOICES,
                                                                                                  "sap")
    with Store.open(f"sqlite:///{tmp_path / 'invoices_only.db'}") as plain:
        source = make_source(client)
        plain.save_companies("sap", source.open().companies)
        for stream in (Stream.CUSTOMERS, Stream.INVOICES, Stream.ORDERS, Stream.CURRENCY_RATES):
            SyncEngine(plain).sync_stream(source, stream)
        assert not plain.has_receivables("sap")
        items, documents = figures(store), figures(plain)
    assert items.keys() == documents.keys() and items
    for group, (exposure, overdue) in items.items():
        other, other_overdue = documents[group]
        assert exposure.total == other.total and exposure.components == other.components
        assert (overdue.amount, overdue.oldest_due) == (other_overdue.amount, other_overdue.oldest_due)
        assert overdue.count <= other_overdue.count  # documents, not items
    again = {s.stream: s for s in engine.sync_source(make_source(client)).streams}
    assert again["receivables"].read == 0 and again["receivables"].written == 0 and again["receivables"].calls == 0
