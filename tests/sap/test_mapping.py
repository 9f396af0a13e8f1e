"""Mapping of recorded-style BAPI rows (as zeep returns them) to domain records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from adapters.sap_soap import mapping
from connector.domain import InvoiceKind, InvoiceState, OrderState, PaymentState
from connector.errors import BadRecord

CTX = mapping.MappingContext("sap", "Europe/Berlin")


def item(**kw):
    raw = {
        "CompCode": "1000", "Customer": "0000100001", "SpGlInd": None, "ClearDate": "0000-00-00",
        "FiscYear": "2024", "DocNo": "9000000001", "ItemNum": "001", "PstngDate": "2024-05-02",
        "DocDate": "2024-05-01", "EntryDate": "2024-05-02", "Currency": "EUR", "LocCurrcy": "EUR",
        "RefDocNo": "90012345", "DocType": "RV", "DbCrInd": "S", "LcAmount": Decimal("1190.0000"),
        "AmtDoccur": Decimal("1190.0000"), "BlineDate": "2024-05-01", "DsctDays1": Decimal("0"),
        "DsctDays2": Decimal("0"), "Netterms": Decimal("30"), "InvRef": None, "BillDoc": "0090012345",
    }
    raw.update(kw)
    return raw


def test_invoice_debit_item():
    inv = mapping.map_open_item(CTX, item())
    assert inv.erp_id == "1000/2024/9000000001/001"
    assert inv.number == "90012345"
    assert inv.customer_id == inv.credit_group_id == "0000100001"
    assert inv.kind is InvoiceKind.INVOICE and inv.sign == 1
    assert inv.state is InvoiceState.POSTED and inv.payment_state is PaymentState.NOT_PAID
    assert inv.amount_total == inv.amount_open == Decimal("1190.00")
    assert inv.amount_open_company == Decimal("1190.00") and inv.company_currency == "EUR"
    assert inv.invoice_date == dt.date(2024, 5, 1)
    assert inv.due_date == dt.date(2024, 5, 31)
    assert inv.company_id == "1000"
    assert inv.changed_at == dt.datetime(2024, 5, 1, 22, 0, tzinfo=dt.UTC)  # entry date, midnight Berlin


def test_credit_item_is_credit_note_and_number_falls_back_to_doc_no():
    inv = mapping.map_open_item(CTX, item(DbCrInd="H", RefDocNo=None, Netterms=Decimal(0)))
    assert inv.kind is InvoiceKind.CREDIT_NOTE and inv.sign == -1
    assert inv.number == "9000000001"
    assert inv.amount_open == Decimal("1190.00")  # unsigned


@pytest.mark.parametrize(
    "fields, due",
    [
        ({"Netterms": Decimal(14), "DsctDays1": Decimal(7)}, dt.date(2024, 5, 15)),
        ({"Netterms": Decimal(0), "DsctDays2": Decimal(20), "DsctDays1": Decimal(7)}, dt.date(2024, 5, 21)),
        ({"Netterms": Decimal(0), "DsctDays1": Decimal(7)}, dt.date(2024, 5, 8)),
        ({"Netterms": Decimal(0)}, dt.date(2024, 5, 1)),
        # credit without invoice reference: due on the baseline date
        ({"DbCrInd": "H", "Netterms": Decimal(30)}, dt.date(2024, 5, 1)),
        # credit memo referring to an invoice: its own terms apply
        ({"DbCrInd": "H", "InvRef": "9000000000", "Netterms": Decimal(30)}, dt.date(2024, 5, 31)),
        # no baseline date: document date, then posting date
        ({"BlineDate": "0000-00-00", "Netterms": Decimal(10)}, dt.date(2024, 5, 11)),
        ({"BlineDate": None, "DocDate": "0000-00-00", "Netterms": Decimal(10)}, dt.date(2024, 5, 12)),
        ({"BlineDate": None, "DocDate": None, "PstngDate": None}, None),
    ],
)
def test_due_date_rules(fields, due):
    assert mapping.due_date(item(**fields)) == due


def test_jpy_whole_yen():
    inv = mapping.map_open_item(CTX, item(CompCode="3000", Currency="JPY", LocCurrcy="JPY",
                                          AmtDoccur=Decimal("1250000.0000"), LcAmount=Decimal("1250000.0000")))
    assert inv.amount_open == Decimal("1250000") and inv.amount_open.as_tuple().exponent == 0
    with pytest.raises(BadRecord, match="AmtDoccur"):
        mapping.map_open_item(CTX, item(Currency="JPY", AmtDoccur=Decimal("12500.50")))


def test_foreign_currency_item_keeps_local_amount():
    inv = mapping.map_open_item(CTX, item(Currency="USD", AmtDoccur=Decimal("2500.0000"),
                                          LcAmount=Decimal("2312.5000")))
    assert (inv.currency, inv.amount_open, inv.company_currency, inv.amount_open_company) == \
        ("USD", Decimal("2500.00"), "EUR", Decimal("2312.50"))


def test_special_gl_is_not_an_invoice():
    raw = item(SpGlInd="A", DbCrInd="H")
    assert mapping.is_special_gl(raw)
    assert not mapping.is_special_gl(item(SpGlInd=" "))
    with pytest.raises(BadRecord, match="SpGlInd"):
        mapping.map_open_item(CTX, raw)


@pytest.mark.parametrize(
    "fields, field",
    [({"Currency": "XXQ"}, "Currency"), ({"DbCrInd": None}, "DbCrInd"), ({"DocDate": "2024-13-01"}, "DocDate"),
     ({"AmtDoccur": None}, "AmtDoccur"), ({"Customer": None}, "Customer")],
)
def test_bad_fields_name_the_field(fields, field):
    with pytest.raises(BadRecord) as info:
        mapping.map_open_item(CTX, item(**fields))
    assert field in info.value.reason and info.value.erp_id == "1000/2024/9000000001/001"


def test_credit_master_text_amounts():
    info = mapping.map_credit({"Kunnr": "0000100003", "Kkber": "1000", "Currency": "EUR", "Klimk": "20,000.00",
                               "Ctlpc": "C03", "Crblb": "X", "Nxtrv": "0000-00-00"}, "0000100003", "")
    assert info.limit == Decimal("20000.00") and info.currency == "EUR"
    assert info.blocked and info.risk_category == "C03" and info.next_review is None
    assert mapping.map_credit(None, "0000100003", "1000") is None


def test_customer():
    credit = mapping.map_credit({"Currency": "JPY", "Klimk": "5,000,000", "Crblb": None}, "0000100026", "3000")
    c = mapping.map_customer(CTX, {"Customer": "0000100026", "Name": "Tanaka Seiki K.K.", "Country": "JP",
                                   "Countryiso": None},
                             {"Customergeneraldetail": {"VatRegNo": None, "DelFlagG": None,
                                                        "CreatDate": "2021-12-01"}}, credit)
    assert c.erp_id == c.credit_group_id == "0000100026" and c.ref == "100026"
    assert c.credit_limit == Decimal("5000000") and c.credit_limit_currency == "JPY"
    assert c.country == "JP" and c.active and c.company_id is None and c.lang is None


def test_customer_language_iso_first_then_the_sap_key():
    general = {"Customergeneraldetail": {"VatRegNo": None, "DelFlagG": None, "CreatDate": "2021-12-01"}}
    address = {"Customer": "0000100001", "Name": "Müller GmbH", "Country": "DE", "Langu": "D"}
    assert mapping.map_customer(CTX, address, general, None).lang == "D"
    with_iso = general | {"Customeraddress": {"Langu": "F", "LanguIso": "FR"}}
    assert mapping.map_customer(CTX, address, with_iso, None).lang == "fr"


def order_row(**kw):
    raw = {"SdDoc": "0000012001", "ItmNumber": "000010", "SoldTo": "0000100001", "Currency": "EUR",
           "NetValHd": Decimal("5710.00"), "NetValue": Decimal("5000.00"), "DocDate": "2024-06-26",
           "CreationDate": "2024-06-26", "CreationTime": dt.time(9, 30), "StatusDoc": "A", "DlvBlock": None}
    raw.update(kw)
    return raw


def test_orders_aggregate_items_per_document():
    rows = [order_row(), order_row(ItmNumber="000020", NetValue=Decimal("710.00")),
            order_row(SdDoc="0000012002", NetValHd=Decimal("9600.00"), DlvBlock="01")]
    a, b = mapping.map_orders(CTX, rows, "1000")
    assert (a.erp_id, a.number, a.amount_total, a.amount_uninvoiced) == \
        ("0000012001", "12001", Decimal("5710.00"), Decimal("5710.00"))
    assert a.state is OrderState.CONFIRMED and not a.locked and a.erp_hold is False
    assert a.order_date == dt.datetime(2024, 6, 26, 7, 30, tzinfo=dt.UTC)
    assert b.erp_hold is True and b.company_id == "1000"


def test_order_jpy_internal_format_and_bad_status():
    ctx = mapping.MappingContext("sap", "UTC", curr_internal=True)
    (o,) = mapping.map_orders(ctx, [order_row(Currency="JPY", NetValHd=Decimal("8000.00"))], "3000")
    assert o.amount_total == Decimal("800000")
    (bad,) = mapping.map_orders(CTX, [order_row(Currency="JPY", NetValHd=Decimal("8000.50"))], "3000")
    assert isinstance(bad, BadRecord) and "NetValHd" in bad.reason
    (bad,) = mapping.map_orders(CTX, [order_row(StatusDoc="Z")], "1000")
    assert isinstance(bad, BadRecord) and "StatusDoc" in bad.reason
