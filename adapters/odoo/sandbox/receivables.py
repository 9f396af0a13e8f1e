"""``account.move.line``: the receivable journal items of customer documents and payments on account.

As on a real Odoo, each posted customer invoice or credit note has one receivable item per instalment of
its payment term (``display_type = 'payment_term'``, ``date_maturity`` the instalment's due date), the
partner its commercial partner; ``amount_residual`` (company currency) and ``amount_residual_currency``
(document currency) are signed (credit items negative) and kept consistent with the document's
``amount_residual`` / ``amount_residual_signed``: a payment on an invoice is reconciled with its earliest
instalments first (Odoo's reconciliation of a payment against the invoice's open items, by maturity).  A
payment on account (:func:`post_payment_on_account`) is a posted entry with one unreconciled receivable
credit item.  ``res.partner.credit`` sums the posted receivable residuals of the partner, per company.

Items are derived from their document: :func:`rebuild` (re)writes the receivable items of the given
documents, writing only the items whose values changed, stamped with the transaction's start (the
document's own ``write_date`` in the bulk data sets), as Odoo's recomputation of stored fields does.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from typing import Any, Iterable

from .convert import round_money

#: instalments of the payment terms that have several: (percent, days after the invoice date); the last takes
#: the balance.  Terms not listed have one instalment, due on the document's ``invoice_date_due``.
TERM_LINES: dict[int, list[tuple[float, int]]] = {8: [(30.0, 0), (70.0, 60)]}
CUSTOMER_MOVES = ("out_invoice", "out_refund", "out_receipt")
STATES = {"posted": "posted", "draft": "draft", "cancel": "cancel"}

#: the columns rebuild writes (then create/write dates and uids)
COLUMNS = ("move_id", "move_name", "partner_id", "account_id", "journal_id", "company_id", "company_currency_id",
           "currency_id", "date", "invoice_date", "date_maturity", "debit", "credit", "balance", "amount_currency",
           "amount_residual", "amount_residual_currency", "reconciled", "parent_state", "display_type", "name",
           "sequence", "ref")


def term_due_dates(term: int | None, invoice_date: str | None) -> list[str] | None:
    """The due dates of a multi-instalment term's instalments (None for a one-instalment term)."""
    lines = TERM_LINES.get(term or 0)
    if not lines or not invoice_date:
        return None
    day = date.fromisoformat(invoice_date)
    return [(day + timedelta(days=days)).isoformat() for _percent, days in lines]


def _digits(conn: sqlite3.Connection, cache: dict[int, int], currency: int) -> int:
    if currency not in cache:
        row = conn.execute('SELECT "decimal_places" FROM "res_currency" WHERE "id" = ?', [currency]).fetchone()
        cache[currency] = int(row[0]) if row and row[0] is not None else 2
    return cache[currency]


def _split(total: float, parts: list[float], digits: int) -> list[float]:
    """``total`` split by the percentages ``parts``, each rounded, the last taking the balance."""
    amounts = [round_money(total * p / 100.0, digits) for p in parts[:-1]]
    amounts.append(round_money(total - sum(amounts), digits))
    return amounts


def _allocate(amounts: list[float], open_total: float, digits: int) -> list[float]:
    """What stays open of each instalment (in maturity order) when ``total − open_total`` was paid: a payment
    settles the earliest instalments first."""
    paid = round_money(sum(amounts) - open_total, digits)
    residuals = []
    for amount in amounts:
        settled = min(amount, max(paid, 0.0))
        paid = round_money(paid - settled, digits)
        residuals.append(round_money(amount - settled, digits))
    return residuals


def desired_lines(conn: sqlite3.Connection, move: dict[str, Any], receivable: dict[int, int],
                  company_currency: dict[int, int], digits: dict[int, int]) -> list[dict[str, Any]]:
    """The receivable items a customer document should have, in maturity order."""
    if move["move_type"] not in CUSTOMER_MOVES or not move["commercial_partner_id"]:
        return []
    company, currency = move["company_id"], move["currency_id"]
    cur_digits = _digits(conn, digits, currency)
    comp_currency = company_currency[company]
    comp_digits = _digits(conn, digits, comp_currency)
    sign = -1 if move["move_type"] == "out_refund" else 1
    total, residual = abs(move["amount_total"] or 0.0), abs(move["amount_residual"] or 0.0)
    total_company, residual_company = abs(move["amount_total_signed"] or 0.0), abs(move["amount_residual_signed"] or 0.0)
    if move["state"] != "posted":
        residual, residual_company = total, total_company
    term_lines = TERM_LINES.get(move["invoice_payment_term_id"] or 0) if sign > 0 else None
    invoice_day = move["invoice_date"] or move["date"]
    dues = term_due_dates(move["invoice_payment_term_id"], invoice_day) if term_lines else None
    if term_lines and dues:
        percents = [p for p, _d in term_lines]
    else:
        percents, dues = [100.0], [move["invoice_date_due"] or invoice_day]
    amounts = _split(total, percents, cur_digits)
    amounts_company = _split(total_company, percents, comp_digits)
    open_amounts = _allocate(amounts, residual, cur_digits)
    open_company = []
    for amount, amount_company, left in zip(amounts, amounts_company, open_amounts):
        open_company.append(amount_company if left == amount else
                            round_money(left * amount_company / amount, comp_digits) if amount else 0.0)
    drift = round_money(residual_company - sum(open_company), comp_digits)
    if drift:  # company-currency residuals add up to the document's own (rounding goes to the last open one)
        last = max((i for i, left in enumerate(open_amounts) if left), default=len(open_amounts) - 1)
        open_company[last] = round_money(open_company[last] + drift, comp_digits)
    lines = []
    several = len(amounts) > 1
    for index, (due, amount, amount_company, left, left_company) in enumerate(
            zip(dues, amounts, amounts_company, open_amounts, open_company), start=1):
        balance = sign * amount_company
        name = move["payment_reference"] or (move["name"] if move["name"] and move["name"] != "/" else "")
        lines.append({
            "move_id": move["id"], "move_name": move["name"], "partner_id": move["commercial_partner_id"],
            "account_id": receivable.get(company), "journal_id": move["journal_id"], "company_id": company,
            "company_currency_id": comp_currency, "currency_id": currency, "date": move["date"],
            "invoice_date": move["invoice_date"], "date_maturity": due,
            "debit": balance if balance > 0 else 0.0, "credit": -balance if balance < 0 else 0.0, "balance": balance,
            "amount_currency": sign * amount, "amount_residual": sign * left_company,
            "amount_residual_currency": sign * left, "reconciled": int(move["state"] == "posted" and left == 0
                                                                      and left_company == 0),
            "parent_state": STATES.get(move["state"], move["state"]), "display_type": "payment_term",
            "name": f"{name} installment #{index}".strip() if several else name, "sequence": 10 + index,
            "ref": move["ref"],
        })
    return lines


_MOVE_COLUMNS = ("id", "name", "move_type", "state", "commercial_partner_id", "company_id", "currency_id",
                 "journal_id", "date", "invoice_date", "invoice_date_due", "invoice_payment_term_id", "amount_total",
                 "amount_residual", "amount_total_signed", "amount_residual_signed", "payment_reference", "ref",
                 "write_date", "write_uid")


def _receivable_accounts(conn: sqlite3.Connection) -> dict[int, int]:
    return {company: account for company, account in conn.execute(
        'SELECT "company_id", MIN("id") FROM "account_account" WHERE "account_type" = \'asset_receivable\' '
        'GROUP BY "company_id"')}


def rebuild(conn: sqlite3.Connection, move_ids: Iterable[int] | None, stamp: str | None, uid: int = 2) -> int:
    """Bring the receivable items of the customer documents ``move_ids`` (every one when None) in line with
    them; items that change are stamped ``stamp`` (None: the document's own ``write_date``).  Returns how many
    items were written."""
    receivable = _receivable_accounts(conn)
    company_currency = dict(conn.execute('SELECT "id", "currency_id" FROM "res_company"'))
    digits: dict[int, int] = {}
    names = ", ".join(f'm."{c}"' for c in _MOVE_COLUMNS)
    if move_ids is None:
        rows = conn.execute(f'SELECT {names} FROM "account_move" m WHERE m."move_type" IN '
                            "('out_invoice', 'out_refund', 'out_receipt') ORDER BY m.\"id\"").fetchall()
    else:
        rows = conn.execute(f'SELECT {names} FROM "account_move" m WHERE m."id" IN (SELECT value FROM json_each(?)) '
                            'ORDER BY m."id"', [json.dumps(sorted(set(move_ids)))]).fetchall()
    existing: dict[int, list[tuple]] = {}
    wanted_ids = [r[0] for r in rows]
    quoted = ", ".join(f'"{c}"' for c in COLUMNS)
    for start in range(0, len(wanted_ids), 5000):
        chunk = json.dumps(wanted_ids[start:start + 5000])
        for line in conn.execute(f'SELECT "id", {quoted} FROM "account_move_line" WHERE "display_type" = '
                                 '\'payment_term\' AND "move_id" IN (SELECT value FROM json_each(?)) ORDER BY "id"',
                                 [chunk]):
            existing.setdefault(line[1], []).append(line)
    inserts, updates, deletes = [], [], []
    for row in rows:
        move = dict(zip(_MOVE_COLUMNS, row))
        when = stamp or move["write_date"]
        wanted = desired_lines(conn, move, receivable, company_currency, digits)
        have = existing.get(move["id"], [])
        for index, line in enumerate(wanted):
            values = tuple(line[c] for c in COLUMNS)
            if index < len(have):
                if tuple(have[index][1:]) != values:
                    updates.append((*values, when, uid, have[index][0]))
            else:
                inserts.append((*values, when, uid, when, uid))
        deletes += [line[0] for line in have[len(wanted):]]
    if inserts:
        conn.executemany(f'INSERT INTO "account_move_line" ({quoted}, "create_date", "create_uid", "write_date", '
                         f'"write_uid") VALUES ({", ".join("?" * (len(COLUMNS) + 4))})', inserts)
    if updates:
        sets = ", ".join(f'"{c}" = ?' for c in (*COLUMNS, "write_date", "write_uid"))
        conn.executemany(f'UPDATE "account_move_line" SET {sets} WHERE "id" = ?', updates)
    if deletes:
        conn.execute('DELETE FROM "account_move_line" WHERE "id" IN (SELECT value FROM json_each(?))',
                     [json.dumps(deletes)])
    return len(inserts) + len(updates) + len(deletes)


def post_payment_on_account(conn: sqlite3.Connection, *, partner_id: int, amount: float, company_id: int,
                            currency_id: int, day: str, stamp: str, uid: int = 2) -> int:
    """A customer payment received and not matched to any invoice: a posted entry (``PBNK1/…``) whose
    receivable item is a credit left unreconciled (and a debit on the bank's outstanding receipts).
    Returns the entry's id."""
    digits: dict[int, int] = {}
    amount = round_money(amount, _digits(conn, digits, currency_id))
    if amount <= 0:
        raise ValueError(f"payment {amount} must be positive")
    move_id, _line = _payment_entry(conn, partner_id=partner_id, amount=amount, company_id=company_id,
                                    currency_id=currency_id, day=day, stamp=stamp, uid=uid, ref="Payment on account",
                                    matched=False)
    return move_id


def _payment_entry(conn: sqlite3.Connection, *, partner_id: int, amount: float, company_id: int, currency_id: int,
                   day: str, stamp: str, uid: int, ref: str, matched: bool,
                   amount_company: float | None = None) -> tuple[int, int]:
    """A posted customer payment entry (``P<journal>/<year>/<n>``): a debit on the bank's outstanding receipts and
    a receivable credit item, left open (a payment on account) or ``matched`` (reconciled in full with invoice
    items).  Returns the entry's id and its receivable item's."""
    commercial = conn.execute('SELECT "commercial_partner_id" FROM "res_partner" WHERE "id" = ?',
                              [partner_id]).fetchone()
    if commercial is None:
        raise KeyError(f"res.partner {partner_id} does not exist")
    partner = commercial[0] or partner_id
    comp_currency = conn.execute('SELECT "currency_id" FROM "res_company" WHERE "id" = ?', [company_id]).fetchone()[0]
    digits: dict[int, int] = {}
    if amount_company is None:
        rate = 1.0
        if currency_id != comp_currency:
            from .accounting import rate_sql
            rate = float(conn.execute(f"SELECT {rate_sql('?', '?', '?')}",
                                      [currency_id, company_id, day, currency_id, company_id]).fetchone()[0] or 1.0)
        amount_company = round_money(amount / rate, _digits(conn, digits, comp_currency))
    journal = conn.execute('SELECT "id", "code" FROM "account_journal" WHERE "company_id" = ? AND "type" = \'bank\' '
                           'ORDER BY "sequence", "id" LIMIT 1', [company_id]).fetchone()
    prefix = f"P{journal[1]}/{day[:4]}/"
    last = conn.execute('SELECT "name" FROM "account_move" WHERE "company_id" = ? AND "name" LIKE ? '
                        'ORDER BY "name" DESC LIMIT 1', [company_id, prefix + "%"]).fetchone()
    number = int(last[0].rsplit("/", 1)[1]) + 1 if last else 1
    name = f"{prefix}{number:05d}"
    move_values = {
        "name": name, "move_type": "entry", "state": "posted", "payment_state": "not_paid", "partner_id": partner_id,
        "commercial_partner_id": partner, "company_id": company_id, "currency_id": currency_id,
        "journal_id": journal[0], "date": day, "auto_post": "no", "is_move_sent": 0, "amount_untaxed": 0.0,
        "amount_tax": 0.0, "amount_total": amount, "amount_residual": 0.0, "amount_untaxed_signed": 0.0,
        "amount_tax_signed": 0.0, "amount_total_signed": amount_company, "amount_residual_signed": 0.0,
        "amount_total_in_currency_signed": amount, "ref": ref,
        "create_date": stamp, "create_uid": uid, "write_date": stamp, "write_uid": uid,
    }
    columns = {row[1] for row in conn.execute('PRAGMA table_info("account_move")')}
    move_values = {k: v for k, v in move_values.items() if k in columns}
    cursor = conn.execute(f'INSERT INTO "account_move" ({", ".join(f"{chr(34)}{k}{chr(34)}" for k in move_values)}) '
                          f'VALUES ({", ".join("?" * len(move_values))})', list(move_values.values()))
    move_id = int(cursor.lastrowid)
    outstanding = conn.execute('SELECT "id" FROM "account_account" WHERE "company_id" = ? AND "code" = \'101403\'',
                               [company_id]).fetchone()
    common = {"move_id": move_id, "move_name": name, "partner_id": partner, "journal_id": journal[0],
              "company_id": company_id, "company_currency_id": comp_currency, "currency_id": currency_id, "date": day,
              "invoice_date": None, "parent_state": "posted", "display_type": None, "ref": ref,
              "create_date": stamp, "create_uid": uid, "write_date": stamp, "write_uid": uid}
    open_company, open_amount = (0.0, 0.0) if matched else (-amount_company, -amount)
    lines = [
        common | {"account_id": outstanding[0] if outstanding else None, "name": f"Customer Payment {name}",
                  "date_maturity": day, "debit": amount_company, "credit": 0.0, "balance": amount_company,
                  "amount_currency": amount, "amount_residual": 0.0, "amount_residual_currency": 0.0,
                  "reconciled": 0, "sequence": 10},
        common | {"account_id": _receivable_accounts(conn).get(company_id), "name": f"Customer Payment {name}",
                  "date_maturity": day, "debit": 0.0, "credit": amount_company, "balance": -amount_company,
                  "amount_currency": -amount, "amount_residual": open_company, "amount_residual_currency": open_amount,
                  "reconciled": int(matched), "sequence": 20},
    ]
    names = list(lines[0])
    conn.executemany(f'INSERT INTO "account_move_line" ({", ".join(f"{chr(34)}{k}{chr(34)}" for k in names)}) '
                     f'VALUES ({", ".join("?" * len(names))})', [[line[k] for k in names] for line in lines])
    receivable_line = conn.execute('SELECT MAX("id") FROM "account_move_line" WHERE "move_id" = ?',
                                   [move_id]).fetchone()[0]
    return move_id, int(receivable_line)


def instalment_residuals(conn: sqlite3.Connection, move_id: int) -> dict[int, tuple[float, float]]:
    """``{item id: (amount_residual, amount_residual_currency)}`` of a document's receivable items."""
    return {row[0]: (row[1] or 0.0, row[2] or 0.0) for row in conn.execute(
        'SELECT "id", "amount_residual", "amount_residual_currency" FROM "account_move_line" '
        'WHERE "move_id" = ? AND "display_type" = \'payment_term\'', [move_id])}


def reconcile_payment(conn: sqlite3.Connection, move_id: int, before: dict[int, tuple[float, float]], *, day: str,
                      stamp: str, uid: int = 2) -> int | None:
    """What a payment registered on invoice ``move_id`` leaves in the ledger once :func:`rebuild` has lowered its
    items' residuals from ``before``: a payment entry dated ``day`` whose receivable credit is matched in full,
    and one ``account.partial.reconcile`` per instalment it settled (``amount`` in company currency, the amounts
    in the document's currency, ``max_date`` the later of the two items' dates), as Odoo's reconciliation
    writes them.  Returns the payment entry's id (None when nothing was settled)."""
    move = conn.execute('SELECT "partner_id", "company_id", "currency_id", "date" FROM "account_move" WHERE "id" = ?',
                        [move_id]).fetchone()
    after = instalment_residuals(conn, move_id)
    settled = [(line, round(before[line][0] - left[0], 6), round(before[line][1] - left[1], 6))
               for line, left in sorted(after.items()) if line in before]
    settled = [(line, company, amount) for line, company, amount in settled if company > 0 or amount > 0]
    if not settled:
        return None
    digits: dict[int, int] = {}
    comp_currency = conn.execute('SELECT "currency_id" FROM "res_company" WHERE "id" = ?', [move[1]]).fetchone()[0]
    amount = round_money(sum(a for _l, _c, a in settled), _digits(conn, digits, move[2]))
    amount_company = round_money(sum(c for _l, c, _a in settled), _digits(conn, digits, comp_currency))
    payment, credit_line = _payment_entry(conn, partner_id=move[0], amount=amount, company_id=move[1],
                                          currency_id=move[2], day=day, stamp=stamp, uid=uid, ref=f"Payment {move_id}",
                                          matched=True, amount_company=amount_company)
    conn.executemany(
        'INSERT INTO "account_partial_reconcile" ("debit_move_id", "credit_move_id", "amount", "debit_amount_currency", '
        '"credit_amount_currency", "debit_currency_id", "credit_currency_id", "company_id", "max_date", '
        '"create_date", "create_uid", "write_date", "write_uid") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [(line, credit_line, company, amount_line, amount_line, move[2], move[2], move[1], max(day, move[3] or day),
          stamp, uid, stamp, uid) for line, company, amount_line in settled])
    return payment


def credit_sql(partner_expr: str, company: int) -> str:
    """``res.partner.credit`` as Odoo computes it: the posted receivable residuals of the partner (the commercial
    partner: receivable items carry it) in the current company."""
    return (f'(SELECT COALESCE(ROUND(SUM(l."amount_residual"), 2), 0.0) FROM "account_move_line" l '
            f'JOIN "account_account" a ON a."id" = l."account_id" '
            f'WHERE l."partner_id" = {partner_expr} AND l."parent_state" = \'posted\' '
            f'AND a."account_type" = \'asset_receivable\' AND l."company_id" = {company})')
