"""The files of a claim (:class:`connector.claims.Claim`): ``claim.json``, ``invoices.csv``, ``history.csv`` and
``claim.html`` (a self-contained, printable summary).  Pure: each function returns the file's text."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from .claims import Claim, Limit, Line
from .money import for_people, from_minor, quantize

DEADLINE_LABELS = {"notify_by": "Notify the overdue account by", "cover_stops": "Cover stops (end of the MEP)",
                   "collection_by": "Transfer for collection by"}
INVOICE_COLUMNS = ("number", "invoice_date", "due_date", "days_past_due", "currency", "amount_open",
                   "amount_base", "base_currency", "limit_insurer", "limit_amount", "limit_currency",
                   "limit_status", "limit_decided", "after_cover_stopped", "document")
_OUTCOME_CLASS = {"kept": "met", "broken": "missed"}
HISTORY_COLUMNS = ("at", "day", "event", "state", "detail", "actor", "level", "amount", "due_on", "overdue",
                   "disputed", "exposure", "currency")


def amount(value: Decimal | None, currency: str) -> str:
    """``value`` to ``currency``'s precision, plain (``1234.50``); empty for none."""
    return "" if value is None else str(quantize(value, currency))


def money(value: Decimal | None, currency: str) -> str:
    """``value`` for people: ``1,234.50 USD``."""
    return "-" if value is None else for_people(value, currency)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _limit(limit: Limit | None) -> dict[str, Any] | None:
    if limit is None:
        return None
    return {"insurer": limit.insurer, "amount": amount(limit.amount, limit.currency), "currency": limit.currency,
            "decided": limit.decided.isoformat(), "expires": _day(limit.expires), "status": limit.status}


def _line(line: Line, base: str, documents: dict[str, str]) -> dict[str, Any]:
    return {"number": line.number, "document_id": line.document_id, "item_id": line.item_id,
            "invoice_date": _day(line.invoice_date), "due_date": _day(line.due_date),
            "days_past_due": line.days_past_due, "currency": line.currency,
            "amount_open": amount(line.amount_open, line.currency), "amount_base": amount(line.amount_base, base),
            "limit": _limit(line.limit), "after_cover_stopped": line.after_cover_stopped,
            "document": documents.get(line.document_id or "")}


def _totals(totals: dict[str, Decimal]) -> dict[str, str]:
    return {c: amount(v, c) for c, v in totals.items()}


def claim_json(claim: Claim, documents: dict[str, str] | None = None) -> dict[str, Any]:
    """The claim as a JSON document (``claim.json``); ``documents``: document id → file name written."""
    documents = documents or {}
    base = claim.base_currency
    cur = claim.case.currency if claim.case else base
    b = claim.buyer
    return {
        "as_of": claim.as_of.isoformat(), "base_currency": base,
        "buyer": {"source": b.source, "credit_group": b.credit_group, "name": b.name, "ref": b.ref, "vat": b.vat,
                  "country": b.country, "policy_key": b.policy_key},
        "insurer": _limit(claim.insurer),
        "invoices": [_line(ln, base, documents) for ln in claim.lines],
        "totals": {"by_currency": _totals(claim.totals), "base": amount(claim.total_base, base),
                   "invoices": len(claim.lines), "disputed": amount(claim.disputed, cur),
                   "credits_by_currency": _totals(claim.credits_totals),
                   "credits_base": amount(claim.credits_base, base), "net_base": amount(claim.net_base, base)},
        "credits": [_line(ln, base, {}) for ln in claim.credits],
        "oldest_due": _day(claim.oldest_due),
        "case": None if claim.case is None else {
            "id": claim.case.id, "state": claim.case.state, "currency": cur,
            "opened_on": claim.case.opened_on.isoformat(),
            "dispute": None if not claim.case.dispute_amount_minor else {
                "amount": amount(from_minor(claim.case.dispute_amount_minor, cur), cur),
                "reason": claim.case.dispute_reason}},
        "dunning": [{"level": s.level, "channel": s.channel, "template": s.template, "state": s.state,
                     "day": s.day.isoformat(), "decided_by": s.decided_by} for s in claim.steps],
        "promises": [{"given_on": p.day.isoformat(), "date": _day(p.promised_by), "amount": amount(p.amount, cur),
                      "outcome": p.outcome, "detail": p.detail} for p in claim.promises],
        "disputes": [{"day": d.day.isoformat(), "amount": amount(d.amount, cur), "detail": d.detail,
                      "resolved_on": _day(d.resolved_on)} for d in claim.disputes],
        "history": [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in history_rows(claim)],
        "deadlines": [{"kind": d.kind, "date": d.day.isoformat(), "status": d.status, "days_left": d.days_left,
                       "outcome": d.outcome, "evidence": d.evidence} for d in claim.deadlines],
    }


def _csv(header: tuple[str, ...], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def invoices_csv(claim: Claim, documents: dict[str, str] | None = None) -> str:
    """One row per unpaid invoice (or instalment)."""
    documents = documents or {}
    rows = []
    for ln in claim.lines:
        lim = ln.limit
        rows.append([ln.number, _day(ln.invoice_date) or "", _day(ln.due_date) or "", ln.days_past_due, ln.currency,
                     amount(ln.amount_open, ln.currency), amount(ln.amount_base, claim.base_currency),
                     claim.base_currency, lim.insurer if lim else "", amount(lim.amount, lim.currency) if lim else "",
                     lim.currency if lim else "", lim.status if lim else "none",
                     lim.decided.isoformat() if lim else "", "yes" if ln.after_cover_stopped else "no",
                     documents.get(ln.document_id or "", "")])
    return _csv(INVOICE_COLUMNS, rows)


def history_rows(claim: Claim) -> list[list[Any]]:
    cur = claim.case.currency if claim.case else claim.base_currency

    def amt(minor: int | None) -> str:
        return "" if minor is None else amount(from_minor(minor, cur), cur)

    return [[e.at.isoformat(), e.day.isoformat(), e.event, e.state, e.detail, e.actor,
             "" if e.level is None else e.level, amt(e.amount_minor), _day(e.due_on) or "", amt(e.overdue_minor),
             amt(e.disputed_minor), amt(e.exposure_minor), cur] for e in claim.events]


def history_csv(claim: Claim) -> str:
    """The case's events, oldest first."""
    return _csv(HISTORY_COLUMNS, history_rows(claim))


_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;font-size:10pt;color:#111;margin:2em}
h1{font-size:16pt;margin-bottom:0}h2{font-size:12pt;border-bottom:1px solid #999;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top}td.n,th.n{text-align:right;white-space:nowrap}tfoot td{font-weight:bold}
.missed{color:#b00}.met{color:#070}.note{color:#555;font-style:italic}dl{display:grid;
grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}dd{margin:0}
@media print{body{margin:0}h2{page-break-after:avoid}tr{page-break-inside:avoid}}
"""


def _cells(*values: str, numeric: tuple[int, ...] = ()) -> str:
    return "<tr>" + "".join(f'<td class="n">{v}</td>' if i in numeric else f"<td>{v}</td>"
                            for i, v in enumerate(values)) + "</tr>"


def _head(*names: str) -> str:
    return "<tr>" + "".join(f'<th class="n">{escape(n[1:])}</th>' if n.startswith(">") else f"<th>{escape(n)}</th>"
                            for n in names) + "</tr>"


def claim_html(claim: Claim, documents: dict[str, str] | None = None, missing_documents: bool = False) -> str:
    """The printable summary (``claim.html``); ``documents``: document id → file written, ``missing_documents``:
    whether documents were asked for (then an invoice without one is marked)."""
    documents = documents or {}
    base = claim.base_currency
    b = claim.buyer
    e = escape
    cur = claim.case.currency if claim.case else base
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Claim file: {e(b.name)}"
             f"</title><style>{_STYLE}</style></head><body>",
             f"<h1>Claim file: {e(b.name)}</h1><p>Assembled by CreditGuard as of {claim.as_of}; amounts in the "
             f"invoice currency and in the base currency {e(base)}.</p>",
             "<h2>Buyer</h2><dl>"]
    for label, value in (("Name", b.name), ("Reference", b.ref), ("VAT / registration id", b.vat),
                         ("Country", b.country), ("ERP", f"{b.source}, credit group {b.credit_group}"),
                         ("Key in the policy", b.policy_key)):
        parts.append(f"<dt>{e(label)}</dt><dd>{e(value) if value else '<span class=note>not in the ERP</span>'}</dd>")
    ins = claim.insurer
    parts.append(f"</dl><h2>Insurer</h2><p>{e(ins.insurer)}: {e(ins.status)} limit of {e(money(ins.amount, ins.currency))}"
                 f" decided {ins.decided}" + (f", expires {ins.expires}" if ins.expires else "") + ".</p>")
    parts.append("<h2>Unpaid invoices</h2><table><thead>" + _head(
        "Invoice", "Date", "Due", ">Days late", "Currency", ">Open", f">Open in {base}", "Limit in force that day",
        "Document") + "</thead><tbody>")
    for ln in claim.lines:
        lim = ln.limit
        limit = (f"{e(lim.insurer)} {e(money(lim.amount, lim.currency))} ({e(lim.status)}, {lim.decided})"
                 if lim else "<span class=missed>no insurer limit</span>")
        if ln.after_cover_stopped:
            limit += " <span class=missed>invoiced after cover stopped</span>"
        doc = documents.get(ln.document_id or "")
        doc_cell = (f'<a href="{e(doc)}">{e(doc)}</a>' if doc else
                    "<span class=note>no document from the ERP</span>" if missing_documents else "")
        parts.append(_cells(e(ln.number), str(ln.invoice_date or ""), str(ln.due_date or ""), str(ln.days_past_due),
                            e(ln.currency), e(amount(ln.amount_open, ln.currency)), e(amount(ln.amount_base, base)),
                            limit, doc_cell, numeric=(3, 5, 6)))
    parts.append("</tbody><tfoot>")
    for currency, total in claim.totals.items():
        parts.append(_cells(f"Total {e(currency)}", "", "", "", e(currency), e(amount(total, currency)), "", "", "",
                            numeric=(5,)))
    parts.append(_cells(f"Total in {e(base)}", "", "", "", e(base), "", e(amount(claim.total_base, base)), "", "",
                        numeric=(6,)))
    parts.append("</tfoot></table>")
    if claim.disputed:
        parts.append(f"<p class=missed>Of which disputed: {e(money(claim.disputed, cur))} (a disputed receivable is "
                     "not insured until the dispute is resolved).</p>")
    if claim.credits:
        listed = ", ".join(f"{e(c.number)} {e(money(c.amount_open, c.currency))}" for c in claim.credits)
        parts.append(f"<p>Open credits not applied (credit notes, payments on account): {listed}; "
                     f"{e(money(claim.credits_base, base))} in all. Net receivable: "
                     f"{e(money(claim.net_base, base))}.</p>")
    parts.append("<h2>Insurer deadlines</h2>")
    if claim.deadlines:
        parts.append("<table><thead>" + _head("Deadline", "Date", "Outcome", "Evidence") + "</thead><tbody>")
        for d in claim.deadlines:
            parts.append(_cells(e(DEADLINE_LABELS.get(d.kind, d.kind)), str(d.day),
                                f"<span class={e(d.outcome)}>{e(d.outcome)}</span>", e(d.evidence)))
        parts.append("</tbody></table>")
    else:
        parts.append("<p class=note>No deadline: no terms for this insurer in the policy, or nothing past due.</p>")
    parts.append("<h2>Collection case</h2>")
    if claim.case is None:
        parts.append("<p class=note>No collection case was opened.</p>")
    else:
        c = claim.case
        parts.append(f"<p>Case {c.id}, opened {c.opened_on}, now <b>{e(c.state)}</b>.</p>")
        if claim.steps:
            parts.append("<h3>Dunning</h3><table><thead>" + _head("Day", ">Level (days)", "Channel", "Template",
                                                                   "State") + "</thead><tbody>")
            for s in claim.steps:
                parts.append(_cells(str(s.day), str(s.level), e(s.channel), e(s.template), e(s.state), numeric=(1,)))
            parts.append("</tbody></table>")
        if claim.promises:
            parts.append("<h3>Promises to pay</h3><table><thead>" + _head("Given", "By", ">Amount", "Outcome")
                         + "</thead><tbody>")
            for p in claim.promises:
                parts.append(_cells(str(p.day), str(p.promised_by or ""), e(amount(p.amount, cur)),
                                    f"<span class={_OUTCOME_CLASS.get(p.outcome, 'note')}>{e(p.outcome)}</span>",
                                    numeric=(2,)))
            parts.append("</tbody></table>")
        if claim.disputes:
            parts.append("<h3>Disputes</h3><table><thead>" + _head("Day", ">Amount", "Reason", "Resolved")
                         + "</thead><tbody>")
            for d in claim.disputes:
                parts.append(_cells(str(d.day), e(amount(d.amount, cur)), e(d.detail), str(d.resolved_on or "open"),
                                    numeric=(1,)))
            parts.append("</tbody></table>")
        parts.append("<h3>History</h3><table><thead>" + _head("At", "Event", "State", "Detail", "By",
                                                               f">Overdue ({cur})") + "</thead><tbody>")
        for row in history_rows(claim):
            parts.append(_cells(e(row[0][:19]), e(row[2]), e(row[3]), e(row[4]), e(row[5]), e(row[9]), numeric=(5,)))
        parts.append("</tbody></table>")
    parts.append("<p class=note>Attach besides: the policy's overdue notification as sent to the insurer, "
                 "contracts or order confirmations, proofs of delivery, and the correspondence with the buyer."
                 "</p></body></html>\n")
    return "".join(parts)
