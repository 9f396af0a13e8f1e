"""``data="large:N"``: N customer invoices, about N/50 customers and N/5 orders, filled the way real
books are: by imports and mass actions.

Customers and orders are imported 1,000 per ``create``; invoices are created 1,000 per ``create`` and
posted 1,000 per ``action_post``, one transaction each, so every record of a batch carries the same
``write_date`` (the transaction's start, with microseconds).  From 10,000 invoices on, one mass action
rewrote 5,000 of them in one transaction, and one batch in seven is 2,500 records: groups larger than a
page.  Then, transaction by transaction, payments were registered on some invoices and some customers
and orders were edited, several of them within one second.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any, Iterator

from . import receivables
from .convert import round_money
from .fixtures import (COMPANY_CURRENCY, COMPANY_EU, COMPANY_US, DIGITS, EUR, FIRST_CUSTOMER_ID, GBP, JPY,
                       TAX_RATE, TERM_DAYS, USD, Fixtures, insert, stamp)

WORDS_A = ["North", "Blue", "Silver", "Green", "Atlas", "Prime", "Union", "Pacific", "Alpine", "Metro", "Royal",
           "Summit", "Delta", "Vertex", "Harbor", "Granite", "Cedar", "Falcon", "Orion", "Crown"]
WORDS_B = ["Trading", "Logistics", "Foods", "Textiles", "Machinery", "Furniture", "Packaging", "Tools", "Electric",
           "Chemicals", "Pharma", "Paper", "Motors", "Systems", "Builders", "Farms", "Optics", "Plastics"]
SUFFIXES = ["Inc", "Ltd", "GmbH", "B.V.", "S.A.", "LLC", "plc", "AG", "NV", "S.r.l."]
COUNTRIES = [233, 233, 233, 20, 57, 75, 231, 165, 113, 109]
CURRENCY_OF_COUNTRY = {233: USD, 231: GBP, 113: JPY}


def parse(spec: str) -> int:
    """``"large:100000"`` → 100000."""
    try:
        count = int(spec.split(":", 1)[1])
    except (IndexError, ValueError):
        raise ValueError(f"invalid data set {spec!r}: expected 'demo' or 'large:N'") from None
    if count < 1:
        raise ValueError(f"invalid data set {spec!r}: N must be positive")
    return count


IMPORT_BATCH = 1000  # records per create / action_post
BIG_BATCH = 2500     # one batch in seven: larger than a page
MASS_ACTION = 5000   # one mass action rewriting this many invoices (from 10,000 invoices on)


class Timeline:
    """Transaction start times over the hours before the sandbox starts, in order, with microseconds."""

    def __init__(self, fx: Fixtures, count: int) -> None:
        self.rng = random.Random(count)
        span = timedelta(seconds=max(3600, count // 2))
        self.start = fx.now - span - timedelta(seconds=120)
        self.end = fx.now - timedelta(seconds=60)
        self.bulk_end = self.start + span * 2 / 3  # imports and mass actions first, edits after

    def bulk(self, batches: int) -> list[str]:
        """The start times of ``batches`` bulk transactions, spread over the first two thirds."""
        step = (self.bulk_end - self.start) / max(1, batches)
        return [stamp(self.start + step * i + timedelta(microseconds=self.rng.randint(1, 999_999)))
                for i in range(batches)]

    def edits(self, count: int) -> list[str]:
        """``count`` single-record transactions after the imports, in random order; some share a second."""
        seconds = int((self.end - self.bulk_end).total_seconds())
        moments = sorted(self.bulk_end + timedelta(seconds=self.rng.randint(0, seconds),
                                                   microseconds=self.rng.randint(1, 999_999))
                         for _ in range(count))
        stamps = [stamp(m) for m in moments]
        self.rng.shuffle(stamps)
        return stamps


def batches(count: int) -> list[int]:
    """Sizes of the consecutive batches ``count`` records were imported in."""
    sizes, left, index = [], count, 0
    while left > 0:
        index += 1
        size = min(left, BIG_BATCH if index % 7 == 0 else IMPORT_BATCH)
        sizes.append(size)
        left -= size
    return sizes


def batch_stamps(timeline: Timeline, count: int, steps: int = 1) -> list[list[str]]:
    """Per record (in id order), the starts of the ``steps`` bulk transactions that wrote its batch
    (``create``, then ``action_post``...)."""
    sizes = batches(count)
    stamps = timeline.bulk(len(sizes) * steps)
    return [stamps[i * steps:(i + 1) * steps] for i, size in enumerate(sizes) for _ in range(size)]


class Large:
    def __init__(self, fx: Fixtures, count: int) -> None:
        self.fx, self.count, self.rng = fx, count, fx.rng
        self.customers: list[tuple[int, int, int, int | None]] = []  # id, country, currency, term
        self._rates: dict[tuple[int, int, str], float] = {}
        self.timeline = Timeline(fx, count)

    def rate(self, company: int, currency: int, day: str) -> float:
        key = (company, currency, day)
        if key not in self._rates:
            self._rates[key] = self.fx.rate(company, currency, day)
        return self._rates[key]

    def partners(self) -> None:
        fx, rng = self.fx, self.rng
        total = max(10, self.count // 50)
        rows, used = [], set()
        imported = [stamps[0] for stamps in batch_stamps(self.timeline, total)]
        edited = iter(self.timeline.edits(total))
        for number in range(1, total + 1):
            pid = FIRST_CUSTOMER_ID + number - 1
            name = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)} {rng.choice(SUFFIXES)}"
            if name in used:
                name = f"{name} ({number})"
            used.add(name)
            country = rng.choice(COUNTRIES)
            term = rng.choice([None, 2, 4, 4, 5, 6])
            created = imported[number - 1]
            when = next(edited) if number % 10 == 0 else created  # one customer in ten edited since
            row = fx.partner_row(pid, name, is_company=True, country_id=country, ref=f"C{number:05d}",
                                 customer_rank=rng.randint(1, 50), property_payment_term_id=term,
                                 credit_limit=float(rng.choice([0, 0, 10, 50, 100]) * 1000),
                                 active=0 if number % 97 == 0 else 1, write_date=when, create_date=created)
            rows.append(row)
            self.customers.append((pid, country, CURRENCY_OF_COUNTRY.get(country, EUR), term))
        fx.insert_partners(rows)

    def invoices(self) -> Iterator[tuple[Any, ...]]:
        fx, rng, count = self.fx, self.rng, self.count
        today = fx.today
        counters: dict[tuple[int, str, str], int] = {}
        created_posted = batch_stamps(self.timeline, count, steps=2)  # create, then action_post, per batch
        paid = iter(self.timeline.edits(count))
        mass_left = MASS_ACTION if count >= 2 * MASS_ACTION else 0
        mass = stamp(self.timeline.bulk_end + timedelta(microseconds=self.timeline.rng.randint(1, 999_999)))
        for index in range(count):
            move_id = index + 1
            pid, _country, preferred, term = self.customers[rng.randrange(len(self.customers))]
            company = COMPANY_US if rng.random() < 0.7 else COMPANY_EU
            currency = preferred if rng.random() < 0.15 else COMPANY_CURRENCY[company]
            refund = rng.random() < 0.08
            back = (count - index) * 500 // count
            day = (today - timedelta(days=back)).isoformat()
            due = (today - timedelta(days=back) + timedelta(days=0 if refund else TERM_DAYS.get(term or 1, 0))).isoformat()
            prefix = "RINV" if refund else "INV"
            key = (company, prefix, day[:4])
            counters[key] = counters.get(key, 0) + 1
            digits = DIGITS[currency]
            base = rng.lognormvariate(12.2 if currency == JPY else 7.5, 1.0)
            untaxed = round_money(base / (3 if refund else 1), digits)
            tax = round_money(untaxed * TAX_RATE[company], digits)
            total = round_money(untaxed + tax, digits)
            roll = rng.random() + back / 1000
            if roll > 0.85:
                state, residual = "paid", 0.0
            elif roll > 0.7:
                state, residual = "partial", round_money(total * rng.uniform(0.1, 0.9), digits)
                if not 0 < residual < total:
                    state, residual = "not_paid", total
            else:
                state, residual = "not_paid", total
            rate = self.rate(company, currency, day)
            sign = -1 if refund else 1
            company_digits = DIGITS[COMPANY_CURRENCY[company]]
            created, posted = created_posted[index]
            if state != "not_paid":  # payments registered one by one since
                when = next(paid)
            elif mass_left:  # rewritten by the mass action on open invoices
                when, mass_left = mass, mass_left - 1
            else:
                when = posted
            yield (move_id, f"{prefix}/{day[:4]}/{counters[key]:05d}", "out_refund" if refund else "out_invoice",
                   "posted", state, pid, pid, company, currency, fx.sale_journal[company], day, day, due, term,
                   untaxed, tax, total, residual,
                   sign * round_money(untaxed / rate, company_digits), sign * round_money(tax / rate, company_digits),
                   sign * round_money(total / rate, company_digits), sign * round_money(residual / rate, company_digits),
                   sign * total, "no", 1, 2, created, 2, when, 2)

    def write_invoices(self) -> None:
        insert(self.fx.conn, "account_move", [
            "id", "name", "move_type", "state", "payment_state", "partner_id", "commercial_partner_id", "company_id",
            "currency_id", "journal_id", "date", "invoice_date", "invoice_date_due", "invoice_payment_term_id",
            "amount_untaxed", "amount_tax", "amount_total", "amount_residual", "amount_untaxed_signed",
            "amount_tax_signed", "amount_total_signed", "amount_residual_signed", "amount_total_in_currency_signed",
            "auto_post", "is_move_sent", "invoice_user_id", "create_date", "create_uid", "write_date", "write_uid",
            "partner_shipping_id"], (row + (row[5],) for row in self.invoices()))

    def orders(self) -> Iterator[tuple[Any, ...]]:
        fx, rng = self.fx, self.rng
        total_orders = max(1, self.count // 5)
        states = ["draft", "sent", "sale", "sale", "sale", "sale", "cancel"]
        imported = [stamps[0] for stamps in batch_stamps(self.timeline, total_orders)]
        edited = iter(self.timeline.edits(total_orders))
        for number in range(1, total_orders + 1):
            pid, _country, _preferred, term = self.customers[rng.randrange(len(self.customers))]
            company = COMPANY_US if rng.random() < 0.7 else COMPANY_EU
            currency = COMPANY_CURRENCY[company]
            state = rng.choice(states)
            back = (total_orders - number) * 400 // total_orders
            moment = fx.now - timedelta(days=back, seconds=rng.randint(0, 80000))
            untaxed = round_money(rng.lognormvariate(7.0, 1.0), 2)
            tax = round_money(untaxed * TAX_RATE[company], 2)
            amount = round_money(untaxed + tax, 2)
            eligible = amount if state == "sale" and rng.random() < 0.5 else 0.0
            created = imported[number - 1]
            when = next(edited) if state != "draft" and number % 3 == 0 else created  # confirmed or sent since
            yield (number, f"S{number:05d}", state, int(state == "sale" and rng.random() < 0.1), pid, pid, pid,
                   company, currency, stamp(moment.replace(microsecond=0)), 2, untaxed, tax, amount,
                   "to invoice" if eligible else "no", term, eligible, created, 2, when, 2)

    def write_orders(self) -> None:
        insert(self.fx.conn, "sale_order", [
            "id", "name", "state", "locked", "partner_id", "partner_invoice_id", "partner_shipping_id", "company_id",
            "currency_id", "date_order", "user_id", "amount_untaxed", "amount_tax", "amount_total", "invoice_status",
            "payment_term_id", "x_sb_eligible_amount", "create_date", "create_uid", "write_date", "write_uid"],
            self.orders())


def load(fx: Fixtures, count: int) -> None:
    large = Large(fx, count)
    large.partners()
    large.write_invoices()
    large.write_orders()
    receivables.rebuild(fx.conn, None, None)  # each invoice's receivable item, written with it
