"""Pure functions from raw SAP BAPI rows (as zeep returns them) to domain records.

SAP's quirks stop here: empty elements are ``None``, dates are ``YYYY-MM-DD``
strings with ``0000-00-00`` for "no date", open-item amounts are unsigned with
the sign in ``DbCrInd`` (S debit / H credit), numbers are zero-padded (ALPHA),
credit-master amounts are text (``1,234.56``).  Anything that does not fit
raises :class:`~connector.errors.BadRecord` naming the field.

Identifiers: customers are keyed by their number in SAP's **internal (ALPHA,
zero-padded) format** (``0000100001``), on customers, invoices and orders alike,
so the keys match what every BAPI sends and expects.

``changed_at``: SAP's open items, customers and orders have no change time in
these BAPIs.  The mappers use a *stable* time taken from the record itself
(entry date of the item, creation date/time of the order, creation date of the
customer, at midnight in the system's time zone, as UTC), because the store's
content hash covers ``changed_at``: a time that moved every run would rewrite
every record every run.  Changes are detected by the content hash; the source
reads every stream in full each cycle (snapshot streams).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from connector.domain import (
    CurrencyRate,
    Customer,
    Invoice,
    InvoiceKind,
    InvoiceState,
    OrderState,
    PaymentState,
    ReceivableItem,
    ReceivableKind,
    SalesOrder,
)
from connector.errors import BadRecord
from connector.money import UnknownCurrency, currency_precision, money

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_DIGITS = 24  # SAP's widest amount field (CURR 23) has fewer digits before the decimal point


@dataclass(frozen=True, slots=True)
class MappingContext:
    source: str
    timezone: str = "UTC"  # time zone of the SAP system (dates → UTC)
    curr_internal: bool = False  # CURR fields of SalesorderGetlist come in SAP internal format


@dataclass(frozen=True, slots=True)
class CreditInfo:
    """Credit master (KNKK) of one customer: limit, risk category and block go on the Customer."""

    customer: str
    credit_control_area: str
    currency: str | None
    limit: Decimal | None
    risk_category: str | None
    blocked: bool
    credit_group: str | None
    next_review: date | None


def alpha(value: str, length: int = 10) -> str:
    """ALPHA conversion to the internal format: numeric → zero-padded, otherwise upper case."""
    v = str(value).strip()
    return v.zfill(length) if v.isdigit() else v.upper()


def item_erp_id(raw: dict[str, Any]) -> str:
    return "/".join(str(raw.get(k) or "?").strip() for k in ("CompCode", "FiscYear", "DocNo", "ItemNum"))


class _Reader:
    def __init__(self, model: str, erp_id: str, raw: dict[str, Any]) -> None:
        self.model, self.erp_id, self.raw = model, erp_id, raw

    def bad(self, field: str, reason: str) -> BadRecord:
        return BadRecord(self.model, self.erp_id, f"field {field!r}: {reason}")

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = self.raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.bad(field, "is empty")
            return None
        if not isinstance(value, str):
            raise self.bad(field, f"expected text, got {value!r}")
        return value.strip()

    def date(self, field: str) -> date | None:
        value = self.raw.get(field)
        if value is None or value == "" or value == "0000-00-00" or value == "00000000":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.bad(field, f"not a date: {value!r}") from None

    def number(self, field: str, *, default: Decimal | None = None) -> Decimal:
        value = self.raw.get(field)
        if value is None or value == "":
            if default is not None:
                return default
            raise self.bad(field, "is empty")
        try:
            result = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise self.bad(field, f"not a number: {value!r}") from None
        if not result.is_finite():
            raise self.bad(field, f"not a number: {value!r}")
        if result and result.adjusted() > MAX_DIGITS:
            raise self.bad(field, f"out of range: {str(value)[:40]!r}")
        return result

    def currency(self, field: str) -> str:
        code = self.text(field, required=True)
        try:
            currency_precision(code)
        except UnknownCurrency:
            raise self.bad(field, f"unknown currency {code!r}") from None
        return code

    def amount(self, field: str, currency: str, *, internal: bool = False) -> Decimal:
        value = self.number(field)
        if internal:  # SAP internal CURR format: stored with 2 decimals whatever the currency
            value = value.scaleb(2 - currency_precision(currency))
        places = currency_precision(currency)
        if value != value.quantize(Decimal(1).scaleb(-places)):
            raise self.bad(field, f"{value} has more decimals than {currency} allows (internal format?)")
        return money(value, currency)


def _at_midnight(day: date | None, tz: str) -> datetime:
    if day is None:
        return EPOCH
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


# ------------------------------------------------------------------ open items


def is_special_gl(raw: dict[str, Any]) -> bool:
    """Special G/L items (down payments, guarantees…) are not receivables from invoices."""
    return bool((raw.get("SpGlInd") or "").strip())


def due_date(raw: dict[str, Any], model: str = "BSID") -> date | None:
    """Net due date as SAP's NET_DUE_DATE_GET computes it (see the module's README).

    Baseline + Netterms if > 0, else + DsctDays2 if > 0, else + DsctDays1; a credit
    item (H) without invoice reference is due on the baseline date.  Without a
    baseline date: document date, then posting date (own heuristic).
    """
    r = _Reader(model, item_erp_id(raw), raw)
    base = r.date("BlineDate") or r.date("DocDate") or r.date("PstngDate")
    if base is None:
        return None
    if (raw.get("DbCrInd") or "").strip() == "H" and not (raw.get("InvRef") or "").strip():
        return base
    zero = Decimal(0)
    for field in ("Netterms", "DsctDays2", "DsctDays1"):
        days = r.number(field, default=zero)
        if days > 0:
            try:
                return base + timedelta(days=int(days))
            except OverflowError:
                raise r.bad(field, f"{days} days after {base} is beyond the calendar") from None
    return base


def map_open_item(ctx: MappingContext, raw: dict[str, Any], model: str = "BSID") -> Invoice:
    """One ``BAPI3007_2`` line (not special G/L) → :class:`Invoice`, open, unsigned, kind by S/H."""
    erp_id = item_erp_id(raw)
    r = _Reader(model, erp_id, raw)
    if is_special_gl(raw):
        raise r.bad("SpGlInd", f"special G/L item ({raw.get('SpGlInd')}) is not an invoice")
    for field in ("CompCode", "FiscYear", "DocNo", "ItemNum"):
        r.text(field, required=True)
    shkzg = (raw.get("DbCrInd") or "").strip()
    if shkzg not in ("S", "H"):
        raise r.bad("DbCrInd", f"expected S or H, got {raw.get('DbCrInd')!r}")
    customer = r.text("Customer", required=True)
    currency = r.currency("Currency")
    company_currency = r.currency("LocCurrcy")
    amount = r.amount("AmtDoccur", currency)
    amount_company = r.amount("LcAmount", company_currency)
    if amount < 0 or amount_company < 0:
        raise r.bad("AmtDoccur", "open item amounts are unsigned in BAPI3007_2")
    cid = alpha(customer)
    return Invoice(
        source=ctx.source,
        erp_id=erp_id,
        number=r.text("RefDocNo") or r.text("DocNo", required=True),
        customer_id=cid,
        credit_group_id=cid,
        kind=InvoiceKind.INVOICE if shkzg == "S" else InvoiceKind.CREDIT_NOTE,
        state=InvoiceState.POSTED,
        payment_state=PaymentState.NOT_PAID,
        invoice_date=r.date("DocDate"),
        due_date=due_date(raw, model),
        currency=currency,
        amount_total=amount,
        amount_open=amount,
        company_id=r.text("CompCode", required=True),
        company_currency=company_currency,
        amount_total_company=amount_company,
        amount_open_company=amount_company,
        changed_at=_at_midnight(r.date("EntryDate") or r.date("PstngDate"), ctx.timezone),
        origin=r.text("BillDoc") or None,
    )


PAYMENT_DOC_TYPES = frozenset({"DZ"})  # customer payments: a credit item of one is a payment on account


def map_open_receivable(ctx: MappingContext, raw: dict[str, Any], model: str = "BSID") -> ReceivableItem:
    """One open item → :class:`ReceivableItem`, signed: a debit (S) is an instalment (an invoice with several due
    dates has one open item per due date, ``ItemNum`` apart), a credit (H) of a payment document (``DZ``) a payment
    on account, any other credit an open credit note.  Validated as :func:`map_open_item`.  An open item of SAP is a
    whole item (a part payment is an item of its own), so its own amount (``amount_company``) is its open amount."""
    item = map_open_item(ctx, raw, model)
    credit = item.kind is InvoiceKind.CREDIT_NOTE
    doc_type = (raw.get("DocType") or "").strip()
    kind = (ReceivableKind.INSTALMENT if not credit else
            ReceivableKind.PAYMENT if doc_type in PAYMENT_DOC_TYPES else ReceivableKind.CREDIT_NOTE)
    document = "/".join(str(raw.get(k) or "?").strip() for k in ("CompCode", "FiscYear", "DocNo"))
    return ReceivableItem(
        source=item.source, erp_id=item.erp_id, kind=kind, document_id=document, document_number=item.number,
        customer_id=item.customer_id, credit_group_id=item.credit_group_id, state=InvoiceState.POSTED,
        document_date=item.invoice_date, due_date=item.due_date, currency=item.currency,
        amount_open=item.sign * item.amount_open, company_id=item.company_id, company_currency=item.company_currency,
        amount_open_company=item.sign * item.amount_open_company, changed_at=item.changed_at,
        amount_company=item.sign * item.amount_open_company,
    )


def map_cleared_receivable(ctx: MappingContext, raw: dict[str, Any]) -> ReceivableItem | None:
    """An item cleared since a past key date (a BSAD line of ``BAPI_AR_ACC_GETOPENITEMS`` with ``ClearDate``) →
    :class:`ReceivableItem` settled in full: nothing open, ``paid_on`` = the clearing date (AUGDT),
    ``amount_company`` = its own signed amount, ``changed_at`` = midnight of the clearing date.  None when the line
    is not cleared (no ``ClearDate``) or its document was reversed (``ReversalDoc``: the reversal clears it, nothing
    was paid).  Validated as :func:`map_open_item` (``BadRecord``)."""
    item = map_open_receivable(ctx, raw, "BSAD")
    cleared = _Reader("BSAD", item.erp_id, raw).date("ClearDate")
    if cleared is None or (raw.get("ReversalDoc") or "").strip():
        return None
    zero = Decimal(0)
    return replace(item, amount_open=zero, amount_open_company=zero, paid_on=cleared,
                   changed_at=_at_midnight(cleared, ctx.timezone))


# ------------------------------------------------------------------ customers


def map_credit(raw: dict[str, Any] | None, customer: str, credit_control_area: str) -> CreditInfo | None:
    """``Zsfi013`` (ZFI_CREDIT_DETAIL): amounts are CHAR25 text like ``1,234.56``."""
    if not raw:
        return None
    r = _Reader("KNKK", customer, raw)
    currency = r.currency("Currency") if r.text("Currency") else None
    limit = None
    if r.text("Klimk") is not None:
        limit = r.number("Klimk")
        if currency:
            limit = money(limit, currency)
    return CreditInfo(
        customer=customer,
        credit_control_area=r.text("Kkber") or credit_control_area,
        currency=currency,
        limit=limit,
        risk_category=r.text("Ctlpc"),
        blocked=(r.text("Crblb") or "") == "X",
        credit_group=r.text("Grupp"),
        next_review=r.date("Nxtrv"),
    )


def map_customer(ctx: MappingContext, address: dict[str, Any], detail: dict[str, Any] | None,
                 credit: CreditInfo | None) -> Customer:
    """``BAPICUSTOMER_ADDRESSDATA`` (+ ``GETDETAIL2`` general data, credit master) → :class:`Customer`."""
    number = (address.get("Customer") or "").strip()
    r = _Reader("KNA1", number or "?", address)
    cid = alpha(r.text("Customer", required=True))
    general = dict((detail or {}).get("Customergeneraldetail") or {})
    g = _Reader("KNA1", cid, general)
    name = r.text("Name") or (detail or {}).get("Customeraddress", {}).get("Name")
    if not name:
        raise r.bad("Name", "is empty")
    country = r.text("Countryiso") or r.text("Country")
    return Customer(
        source=ctx.source,
        erp_id=cid,
        ref=cid.lstrip("0") or cid,
        name=name,
        credit_group_id=cid,
        company_id=None,
        country=country.upper() if country else None,
        vat=g.text("VatRegNo"),
        is_company=True,
        parent_id=None,
        credit_limit=credit.limit if credit else None,
        credit_limit_currency=(credit.currency if credit and credit.limit is not None else None),
        active=(g.text("DelFlagG") or "") != "X",
        changed_at=_at_midnight(g.date("CreatDate"), ctx.timezone),
        risk_category=credit.risk_category if credit else None,
        credit_blocked=credit.blocked if credit else False,
        lang=_language(address, detail),
    )


def _language(address: dict[str, Any], detail: dict[str, Any] | None) -> str | None:
    """The customer's correspondence language: ISO 639-1 (``LanguIso``, lower case) when SAP gives it, else the SAP
    language key (``Langu``: ``F``, ``D``…) as it is."""
    found = dict((detail or {}).get("Customeraddress") or {})
    for value in (found.get("LanguIso"), address.get("LanguIso")):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    for value in (found.get("Langu"), address.get("Langu")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# ------------------------------------------------------------------ sales orders

ORDER_STATES = {"A": OrderState.CONFIRMED, "B": OrderState.CONFIRMED, "C": OrderState.DONE, "": OrderState.CONFIRMED}


def map_orders(ctx: MappingContext, items: list[dict[str, Any]], company_id: str) -> list[SalesOrder | BadRecord]:
    """``BAPIORDERS`` rows (one per item) → one :class:`SalesOrder` per ``SdDoc``, or the BadRecord.

    Net value from the header field ``NetValHd``; ``amount_uninvoiced`` = net value
    for open orders (approximation: GETLIST tells nothing about billed quantities),
    0 for completed ones (status C).
    """
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_doc.setdefault((item.get("SdDoc") or "?").strip(), []).append(item)
    out: list[SalesOrder | BadRecord] = []
    for vbeln, lines in by_doc.items():
        try:
            out.append(_map_order(ctx, vbeln, lines, company_id))
        except BadRecord as exc:
            out.append(exc)
    return out


def _map_order(ctx: MappingContext, vbeln: str, lines: list[dict[str, Any]], company_id: str) -> SalesOrder:
    head = lines[0]
    r = _Reader("VBAK", vbeln, head)
    if vbeln == "?":
        raise r.bad("SdDoc", "is empty")
    currency = r.currency("Currency")
    net = r.amount("NetValHd", currency, internal=ctx.curr_internal)
    status = (head.get("StatusDoc") or "").strip()
    state = ORDER_STATES.get(status)
    if state is None:
        raise r.bad("StatusDoc", f"unknown overall status {status!r}")
    created = r.date("CreationDate") or r.date("DocDate")
    ctime = head.get("CreationTime")
    if created is not None:
        clock = ctime if isinstance(ctime, time) else time(0)
        order_date = datetime.combine(created, clock, ZoneInfo(ctx.timezone)).astimezone(UTC)
    else:
        order_date = None
    return SalesOrder(
        source=ctx.source,
        erp_id=vbeln,
        number=vbeln.lstrip("0") or vbeln,
        customer_id=alpha(r.text("SoldTo", required=True)),
        state=state,
        locked=False,
        order_date=order_date,
        currency=currency,
        amount_total=net,
        amount_uninvoiced=net if state is OrderState.CONFIRMED else money(0, currency),
        company_id=company_id,
        changed_at=order_date or EPOCH,
        project=None,
        erp_hold=bool(r.text("DlvBlock")),
    )


# ------------------------------------------------------------------ exchange rates

RATE_MODEL = "TCURR"
RATE_DIGITS = 20  # significant digits of a rate that is a quotient (100 / 0.62 has no finite decimal form)
_RATE_CONTEXT = Context(prec=RATE_DIGITS)


def _currency_code(raw: dict[str, Any], field: str) -> str:
    return (raw.get(field) or "").strip().upper()


def rate_erp_id(raw: dict[str, Any], company_id: str, currency: str) -> str:
    """``<rate type>/<company code>/<other currency>/<valid from>``, e.g. ``M/1000/USD/2024-06-01``."""
    valid_from = raw.get("ValidFrom")
    day = valid_from.isoformat() if isinstance(valid_from, date) else str(valid_from or "?").strip()
    return f"{(raw.get('RateType') or '?').strip()}/{company_id}/{currency or '?'}/{day}"


def quotation(r: _Reader) -> tuple[Decimal, Decimal]:
    """(units of FROM_CURR, units of TO_CURRNCY) that are worth the same, exactly, from one ``BAPI1093_0`` row.

    Direct quotation (``ExchRate`` > 0): ``FromFactor`` units of FROM cost ``ExchRate`` × ``ToFactor``
    units of TO (JPY→EUR 0.62 at 100:1: 100 JPY = 0.62 EUR).  Indirect quotation (``ExchRateV`` > 0,
    ``ExchRate`` 0): ``ToFactorV`` units of TO cost ``ExchRateV`` × ``FromFactorV`` units of FROM
    (USD→EUR /1.08: 1 EUR = 1.08 USD).  When both are filled the direct rate is used.
    """
    direct, indirect = _rate_number(r, "ExchRate"), _rate_number(r, "ExchRateV")
    for field, value in (("ExchRate", direct), ("ExchRateV", indirect)):
        if value < 0:
            raise r.bad(field, f"negative rate {value} (BAPI1093_0 carries the quotation in the field, not the sign)")
    if direct > 0:
        return _factor(r, "FromFactor"), direct * _factor(r, "ToFactor")
    if indirect > 0:
        return indirect * _factor(r, "FromFactorV"), _factor(r, "ToFactorV")
    raise r.bad("ExchRate", "no rate: ExchRate and ExchRateV are 0 (SAP reads a zero rate as missing)")


def _rate_number(r: _Reader, field: str, default: Decimal | None = Decimal(0)) -> Decimal:
    """A DEC field of ``BAPI1093_0`` (zeep gives a Decimal): no thousands separators taken out here —
    ``0,62`` is not read as 62."""
    value = r.raw.get(field)
    if value is None or value == "":
        if default is None:
            raise r.bad(field, "is empty")
        return default
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise r.bad(field, f"not a number: {value!r}") from None
    if not result.is_finite():
        raise r.bad(field, f"not a number: {value!r}")
    return result


def _factor(r: _Reader, field: str) -> Decimal:
    value = _rate_number(r, field, None)
    if value <= 0:
        raise r.bad(field, f"translation ratio must be positive, got {value}")
    return value


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros, but never in exponent form for whole numbers (``1E+2`` → ``100``)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def map_rate(ctx: MappingContext, raw: dict[str, Any], company_id: str, company_currency: str) -> CurrencyRate:
    """One ``BAPI1093_0`` row between ``company_currency`` and another currency X → :class:`CurrencyRate`
    of company ``company_id``: ``rate`` units of X buy one unit of the company currency on ``ValidFrom``."""
    to_company = _currency_code(raw, "ToCurrncy") == company_currency
    other_field = "FromCurr" if to_company else "ToCurrncy"
    other = _currency_code(raw, other_field)
    r = _Reader(RATE_MODEL, rate_erp_id(raw, company_id, other), raw)
    if _currency_code(raw, "ToCurrncy" if to_company else "FromCurr") != company_currency:
        raise r.bad("ToCurrncy", f"neither currency of the pair is the company currency {company_currency}")
    r.currency(other_field)
    valid_from = r.date("ValidFrom")
    if valid_from is None:
        raise r.bad("ValidFrom", "is empty")
    units_from, units_to = quotation(r)
    # X→C: units_from of X = units_to of C; C→X: units_from of C = units_to of X
    rate = _RATE_CONTEXT.divide(units_from, units_to) if to_company else _RATE_CONTEXT.divide(units_to, units_from)
    return CurrencyRate(
        source=ctx.source,
        erp_id=r.erp_id,
        currency=other,
        company_id=company_id,
        day=valid_from,
        rate=_plain(rate),
        changed_at=_at_midnight(valid_from, ctx.timezone),
    )


def map_rates(ctx: MappingContext, rows: list[dict[str, Any]], company_id: str,
              company_currency: str) -> list[tuple[dict[str, Any], CurrencyRate | BadRecord]]:
    """The rates of one company code from a rate list: one per other currency X and valid-from date,
    each with the row it came from.

    Pairs X→C (to the company currency) are used; C→X, inverted, only for currencies without an X→C
    pair in the list (SAP translates into local currency with X→C and falls back to the inverted pair
    when the rate type allows inversion — TCURV ``XINVR``, not checked here).  Pairs without C are ignored.
    """
    code = _currency_code
    into = [raw for raw in rows if code(raw, "ToCurrncy") == company_currency != code(raw, "FromCurr")]
    out_of = [raw for raw in rows if code(raw, "FromCurr") == company_currency != code(raw, "ToCurrncy")]
    quoted_into = {code(raw, "FromCurr") for raw in into}
    chosen = into + [raw for raw in out_of if code(raw, "ToCurrncy") not in quoted_into]
    results: list[tuple[dict[str, Any], CurrencyRate | BadRecord]] = []
    for raw in chosen:
        try:
            results.append((raw, map_rate(ctx, raw, company_id, company_currency)))
        except BadRecord as exc:
            results.append((raw, exc))
    return results
