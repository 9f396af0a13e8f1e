"""Settlement dates read from Odoo's partial reconciliations: what an answer that is not what Odoo sends does
(the item stays undated or is quarantined with the field named), and a user who may not read reconciliations."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.odoo.source import OdooSource
from adapters.odoo.versions import OdooVersion
from connector.errors import FatalError
from connector.ports import Stream

LINE = {"id": 7, "move_id": [3, "INV/2026/00003"], "move_name": "INV/2026/00003", "move_type": "out_invoice",
        "partner_id": [9, "Acme"], "parent_state": "posted", "date": "2026-10-01", "date_maturity": "2026-10-31",
        "currency_id": [1, "USD"], "company_id": [1, "My Company"], "company_currency_id": [1, "USD"],
        "amount_residual": 0.0, "amount_residual_currency": 0.0, "balance": 300.0, "matched_credit_ids": [41, 42],
        "write_date": "2026-11-20 10:00:00"}


class Client:
    """Answers ``search_read`` from canned answers; ``partials`` is what account.partial.reconcile answers."""

    def __init__(self, partials):
        self.partials = partials
        self.asked = 0  # calls for reconciliations

    def search_read(self, model, domain, fields, **kwargs):
        if model == "account.partial.reconcile":
            self.asked += 1
            if isinstance(self.partials, Exception):
                raise self.partials
            return self.partials
        return [dict(LINE)]


def fetch(partials):
    source = OdooSource("odoo", Client(partials))  # type: ignore[arg-type]
    source.version = OdooVersion(17, "17.0")
    [entry] = source.fetch(Stream.RECEIVABLES, ["7"]).entries
    return source, entry.item


def test_the_latest_reconciliation_date_is_the_settlement_day():
    _, item = fetch([{"id": 41, "max_date": "2026-11-02"}, {"id": 42, "max_date": "2026-11-15"}])
    assert item.paid_on == date(2026, 11, 15) and str(item.amount_company) == "300.00"


@pytest.mark.parametrize("partials", [
    [{"id": [41], "max_date": "2026-11-02"}],  # an id that is not one
    ["41"], [None], [{"id": 41, "max_date": 20261102}], [{"id": 41, "max_date": False}],
    [{"id": 41, "max_date": "2026-11-02T00:00"}], [{"id": 99, "max_date": "2026-11-02"}],  # not asked for
])
def test_an_answer_odoo_would_not_send_leaves_the_item_undated(partials):
    _, item = fetch(partials)
    assert item.paid_on is None and str(item.amount_company) == "300.00"


def test_an_impossible_day_quarantines_the_item_naming_the_field():
    _, rejected = fetch([{"id": 41, "max_date": "2026-13-45"}])
    assert "paid_on" in rejected.reason


def test_a_user_who_may_not_read_reconciliations_syncs_without_dates():
    source, item = fetch(FatalError("odoo", "access error: account.partial.reconcile"))
    assert item.paid_on is None
    [again] = source.fetch(Stream.RECEIVABLES, ["7"]).entries  # not asked again: the refusal is remembered
    assert again.item.paid_on is None and source.client.asked == 1
