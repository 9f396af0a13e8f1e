"""Hostile and odd raw records: every mapper gives a record or a BadRecord naming the field, nothing else;
and the fast mapping paths of the big streams agree with the checked ones (for any raw record, the fast
path either declines it or gives exactly what the checked path gives)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.odoo import mapping
from connector.errors import BadRecord

SAMPLES = Path(__file__).with_name("samples")
MOVES = json.loads((SAMPLES / "17.account.move.json").read_text()) + \
    json.loads((SAMPLES / "19.account.move.json").read_text())
ORDERS = json.loads((SAMPLES / "17.sale.order.json").read_text()) + \
    json.loads((SAMPLES / "19.sale.order.json").read_text())
PARTNERS = json.loads((SAMPLES / "17.res.partner.json").read_text()) + \
    json.loads((SAMPLES / "19.res.partner.json").read_text())
MISSING = object()
ODD = [MISSING, False, None, "", 0, 3, -1.5, 0.004, 1e308, float("nan"), float("inf"), "12.5", "text", True,
       [1], [1, "XXX"], [1, "USD"], [1, "JPY"], [True, "USD"], ["1", "USD"], (1, "USD"), "2026-13-01",
       "2026-11-28", "2026-11-28 10:00:00", "2026-11-28T10:00:00", "2026-11-28 10:00:00.5", "draft", "posted",
       "out_refund", "sale", "done", "cancel", "paid", "blocked"]


def mutated(samples: list[dict]):
    @st.composite
    def build(draw):
        raw = dict(draw(st.sampled_from(samples)))
        for field in draw(st.lists(st.sampled_from(sorted(raw)), max_size=4, unique=True)):
            value = draw(st.sampled_from(ODD))
            if value is MISSING:
                del raw[field]
            else:
                raw[field] = value
        return raw
    return build()


def outcome(function, ctx, raw):
    try:
        return function(ctx, raw)
    except BadRecord as exc:
        return ("bad", exc.reason)


@settings(max_examples=400, deadline=None)
@given(mutated(MOVES))
def test_fast_invoice_mapping_agrees_with_the_checked_one(raw):
    ctx = mapping.MappingContext("odoo", "account.move", "USD")
    checked = outcome(mapping._move_checked, ctx, raw)
    fast = mapping._move_fast(ctx, raw)
    assert fast is None or fast == checked
    assert outcome(mapping.map_move, ctx, raw) == checked


@settings(max_examples=400, deadline=None)
@given(mutated(ORDERS))
def test_fast_order_mapping_agrees_with_the_checked_one(raw):
    ctx = mapping.MappingContext("odoo", "sale.order", "USD")
    checked = outcome(mapping._order_checked, ctx, raw)
    fast = mapping._order_fast(ctx, raw)
    assert fast is None or fast == checked
    assert outcome(mapping.map_order, ctx, raw) == checked


def test_fast_paths_take_the_recorded_records():
    mapping._KNOWN_CURRENCIES.update({"USD", "EUR"})
    moves = [r for r in MOVES if r["state"] == "posted"]
    assert all(mapping._move_fast(mapping.MappingContext("odoo", "account.move", "USD"), r) for r in moves)
    assert all(mapping._order_fast(mapping.MappingContext("odoo", "sale.order", "USD"), r) for r in ORDERS)


@settings(max_examples=300, deadline=None)
@given(mutated(PARTNERS))
def test_partner_mapping_gives_a_customer_or_names_the_field(raw):
    result = outcome(mapping.map_partner, mapping.MappingContext("odoo", "res.partner", "USD"), raw)
    assert not isinstance(result, tuple) or result[1].startswith(("field '", "missing field '"))
