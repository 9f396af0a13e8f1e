"""``data="large:N"``: N customer invoices, about N/50 customers and N/5 orders, generated in bulk.

Write dates are spread over the hours before start with several records per
second, in an order unrelated to ids, so that paging on ``(write_date, id)``
meets ties.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

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


class Large:
    def __init__(self, fx: Fixtures, count: int) -> None:
        self.fx, self.count, self.rng = fx, count, fx.rng
        self.customers: list[tuple[int, int, int, int | None]] = []  # id, country, currency, term
        self._rates: dict[tuple[int, int, str], float] = {}

    def rate(self, company: int, currency: int, day: str) -> float:
        key = (company, currency, day)
        if key not in self._rates:
            self._rates[key] = self.fx.rate(company, currency, day)
        return self._rates[key]

    def partners(self) -> None:
        fx, rng = self.fx, self.rng
        total = max(10, self.count // 50)
        rows, used = [], set()
        for number in range(1, total + 1):
            pid = FIRST_CUSTOMER_ID + number - 1
            name = f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)} {rng.choice(SUFFIXES)}"
            if name in used:
                name = f"{name} ({number})"
            used.add(name)
            country = rng.choice(COUNTRIES)
            term = rng.choice([None, 2, 4, 4, 5, 6])
            when = stamp(fx.now - timedelta(seconds=rng.randint(60, 30 * 86400)))
            row = fx.partner_row(pid, name, is_company=True, country_id=country, ref=f"C{number:05d}",
                                 customer_rank=rng.randint(1, 50), property_payment_term_id=term,
                                 credit_limit=float(rng.choice([0, 0, 10, 50, 100]) * 1000),
                                 active=0 if number % 97 == 0 else 1, write_date=when, create_date=when)
            rows.append(row)
            self.customers.append((pid, country, CURRENCY_OF_COUNTRY.get(country, EUR), term))
        fx.insert_partners(rows)

    def invoices(self) -> Iterator[tuple[Any, ...]]:
        fx, rng, count = self.fx, self.rng, self.count
        today = fx.today
        counters: dict[tuple[int, str, str], int] = {}
        spread = max(60, count // 3)
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
            when = stamp(fx.now - timedelta(seconds=rng.randint(1, spread)))
            yield (move_id, f"{prefix}/{day[:4]}/{counters[key]:05d}", "out_refund" if refund else "out_invoice",
                   "posted", state, pid, pid, company, currency, fx.sale_journal[company], day, day, due, term,
                   untaxed, tax, total, residual,
                   sign * round_money(untaxed / rate, company_digits), sign * round_money(tax / rate, company_digits),
                   sign * round_money(total / rate, company_digits), sign * round_money(residual / rate, company_digits),
                   sign * total, "no", 1, 2, when, 2, when, 2)

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
            when = stamp(fx.now - timedelta(seconds=rng.randint(1, max(60, total_orders))))
            yield (number, f"S{number:05d}", state, int(state == "sale" and rng.random() < 0.1), pid, pid, pid,
                   company, currency, stamp(moment), 2, untaxed, tax, amount,
                   "to invoice" if eligible else "no", term, eligible, when, 2, when, 2)

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
