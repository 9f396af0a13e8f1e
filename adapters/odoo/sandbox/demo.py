"""``data="demo"``: a deterministic, realistic data set relative to the clock's date at start.

58 customer companies (2 archived) with 1–3 contacts, 6 individuals; ~170
sales orders in every state; ~430 customer invoices and credit notes in USD,
EUR, GBP and JPY over every ageing bucket, with consistent payment states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .fixtures import (COMPANY_CURRENCY, COMPANY_EU, COMPANY_US, DIGITS, EUR, FIRST_CUSTOMER_ID, GBP, JPY,
                       TAX_RATE, TERM_DAYS, USD, Fixtures, insert, stamp)
from . import receivables
from .convert import round_money

SEED = 20260117

# name, country id, vat prefix (None: no VAT)
COMPANIES = [
    ("Acme Corporation", 233, "US"), ("Azure Interior", 233, "US"), ("Deco Addict", 233, "US"),
    ("Gemini Furniture", 233, None), ("Lumber Inc", 233, "US"), ("Ready Mat", 233, None),
    ("The Jackson Group", 233, "US"), ("Wood Corner", 233, None), ("OpenWood", 233, "US"),
    ("LightsUp", 233, None), ("Brandon Freeman Industries", 233, "US"), ("Northwind Traders", 233, "US"),
    ("Contoso Ltd", 233, None), ("Fabrikam Inc", 233, "US"), ("Globex Corporation", 233, "US"),
    ("Initech", 233, None), ("Umbrella Supplies", 233, "US"), ("Stark Logistics", 233, "US"),
    ("Wayne Hardware", 233, None), ("Cyberdyne Systems", 233, "US"), ("Soylent Foods", 233, None),
    ("Vandelay Industries", 233, "US"), ("Pinnacle Office Supply", 233, None), ("Summit Builders", 233, "US"),
    ("Blue Ridge Timber", 233, None), ("Redwood Dynamics", 233, "US"), ("Harbor Freight Partners", 233, None),
    ("Golden Gate Produce", 233, "US"), ("Lakeside Medical Supply", 233, "US"), ("Prairie Wind Energy", 233, None),
    ("Agrolait", 20, "BE"), ("Brasserie de la Gare", 20, "BE"), ("Antwerp Diamond Traders NV", 20, "BE"),
    ("Flanders Fresh Foods BV", 20, "BE"), ("Stahlwerk Ruhr GmbH", 57, "DE"), ("Müller & Söhne KG", 57, "DE"),
    ("Nordlicht Möbel GmbH", 57, "DE"), ("Hanseatic Shipping GmbH", 57, "DE"), ("Boulangerie Lecomte", 75, "FR"),
    ("Atelier Lumière SARL", 75, "FR"), ("Van der Berg B.V.", 165, "NL"), ("Tulip Logistics B.V.", 165, "NL"),
    ("Ferretti S.p.A.", 109, "IT"), ("Milano Design Studio S.r.l.", 109, "IT"),
    ("Olivares Distribución S.L.", 68, "ES"), ("Costa Verde Tiles S.A.", 68, "ES"),
    ("Dublin Print Works Ltd", 103, "IE"), ("Thames Valley Tools Ltd", 231, "GB"),
    ("Highland Wool Company", 231, "GB"), ("Pennine Packaging plc", 231, "GB"),
    ("Bristol Cider Works Ltd", 231, None), ("Cotswold Stone Supplies Ltd", 231, "GB"),
    ("Sakura Electronics K.K.", 113, None), ("Fuji Precision Co., Ltd.", 113, None),
    ("Kyoto Tea Trading Co.", 113, None), ("Maple Leaf Distributors Inc", 38, None),
    ("Alpine Precision AG", 43, "CHE"), ("Camptocamp", 43, "CHE"),
]
ARCHIVED = {"Prairie Wind Energy", "Bristol Cider Works Ltd"}
ONLY_COMPANY = {"Gemini Furniture": COMPANY_US, "Initech": COMPANY_US, "Soylent Foods": COMPANY_US,
                "Summit Builders": COMPANY_US, "Agrolait": COMPANY_EU, "Stahlwerk Ruhr GmbH": COMPANY_EU,
                "Boulangerie Lecomte": COMPANY_EU, "Van der Berg B.V.": COMPANY_EU, "Ferretti S.p.A.": COMPANY_EU}
INDIVIDUALS = [("Ava Thompson", 233), ("Liam O'Connor", 103), ("Sofia Rossi", 109), ("Lucas Dubois", 75),
               ("Emma Johansson", 57), ("Noah Williams", 231)]
FIRST = ["Kim", "Jeff", "Sarah", "Robert", "Linda", "Marc", "Julie", "Tom", "Anna", "Peter", "Laura", "David",
         "Nina", "Paul", "Chloe", "Hugo", "Mia", "Jonas", "Elena", "Oscar", "Yuki", "Hana", "Omar", "Ines"]
LAST = ["Snyder", "Lawson", "Miller", "Garcia", "Baker", "Dupont", "Janssens", "Schmidt", "Rossi", "Kowalski",
        "Smith", "Brown", "Martin", "Bernard", "Müller", "Tanaka", "Sato", "Evans", "Moreau", "Peeters"]
COUNTRY_CURRENCY = {233: USD, 38: USD, 113: JPY, 231: GBP}
EU_COUNTRIES = {20, 57, 75, 165, 109, 68, 103, 43}
BUCKETS = [(-60, 0), (1, 30), (31, 60), (61, 90), (91, 420)]  # days overdue (negative: not yet due)


@dataclass
class Customer:
    id: int
    name: str
    country: int
    company: int | None
    currency: int
    term: int | None
    contacts: list[int] = field(default_factory=list)
    invoice_address: int | None = None


@dataclass
class Move:
    move_type: str
    state: str
    payment_state: str
    company: int
    currency: int
    partner: int
    commercial: int
    invoice_date: str | None
    due: str | None
    untaxed: float
    residual_share: float = 1.0  # fraction of the total still due (posted moves)
    term: int | None = None
    origin: str | None = None
    order: int | None = None
    reverses: Move | None = None
    id: int = 0
    name: str = "/"
    key: float = 0.0


class Demo:
    def __init__(self, fx: Fixtures) -> None:
        self.fx = fx
        self.rng = fx.rng
        self.micro = random.Random(SEED + 1)  # the transactions' microseconds, apart from the data's draws
        self.today = fx.today
        self.customers: list[Customer] = []
        self.moves: list[Move] = []
        self.next_partner = FIRST_CUSTOMER_ID

    # -- helpers -------------------------------------------------------------
    def day(self, offset: int) -> str:
        return (self.today + timedelta(days=offset)).isoformat()

    def written(self) -> str:
        """A write_date in the 10 days before start, in the first second of a minute: each record its own
        transaction (own microseconds), many records in one second, as edits in the UI leave them."""
        moment = self.fx.now - timedelta(seconds=self.rng.randint(60, 10 * 86400))
        return stamp(moment.replace(second=0, microsecond=self.micro.randint(1, 999_999)))

    def amount(self, currency: int) -> float:
        if currency == JPY:
            return float(round(min(max(self.rng.lognormvariate(12.2, 0.9), 5000), 9_000_000), -2))
        return round(min(max(self.rng.lognormvariate(7.6, 1.0), 60.0), 90_000.0), 2)

    def vat(self, prefix: str | None) -> str | None:
        if prefix is None:
            return None
        digits = "".join(str(self.rng.randint(0, 9)) for _ in range(9))
        return {"BE": f"BE0{digits}", "NL": f"NL{digits}B01", "CHE": f"CHE-{digits[:3]}.{digits[3:6]}.{digits[6:]}",
                "IT": f"IT{digits}01", "ES": f"ESB{digits[:8]}", "IE": f"IE{digits[:7]}W"}.get(prefix, prefix + digits)

    # -- partners --------------------------------------------------------------
    def partners(self) -> None:
        fx, rng = self.fx, self.rng
        rows = []
        for number, (name, country, vat_prefix) in enumerate(COMPANIES, start=1):
            pid = self.next_partner
            self.next_partner += 1
            currency = COUNTRY_CURRENCY.get(country, EUR)
            term = rng.choice([None, 2, 4, 4, 5, 6])
            company = ONLY_COMPANY.get(name)
            limit = float(rng.choice([5, 10, 20, 25, 50, 75, 100, 150, 250]) * 1000) if number % 5 in (0, 2) else 0.0
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:14]
            row = fx.partner_row(
                pid, name, is_company=True, country_id=country, ref=f"C{number:05d}", vat=self.vat(vat_prefix),
                customer_rank=rng.randint(1, 25), credit_limit=limit, property_payment_term_id=term,
                company_id=company, active=0 if name in ARCHIVED else 1, email=f"info@{slug}.example.com",
                phone=f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                user_id=2 if number % 3 else None,
                property_account_receivable_id=fx.receivable[company or COMPANY_US])
            when = self.written()
            row.update(write_date=when, create_date=when)
            rows.append(row)
            customer = Customer(pid, name, country, company, currency, term)
            for k in range(rng.randint(1, 3)):
                cid = self.next_partner
                self.next_partner += 1
                first, last = rng.choice(FIRST), rng.choice(LAST)
                ptype = "invoice" if k == 1 and rng.random() < 0.6 else "contact"
                contact = fx.partner_row(
                    cid, f"{first} {last}", is_company=False, parent=row, ptype=ptype, country_id=country,
                    email=f"{first.lower()}.{last.lower()}@{slug}.example.com", company_id=company,
                    active=row["active"], function=rng.choice(["Purchasing", "Accountant", "CEO", "Buyer", None]),
                    property_payment_term_id=term, credit_limit=limit, vat=row["vat"])
                contact.update(write_date=when, create_date=when)
                rows.append(contact)
                customer.contacts.append(cid)
                if ptype == "invoice":
                    customer.invoice_address = cid
            self.customers.append(customer)
        for name, country in INDIVIDUALS:
            pid = self.next_partner
            self.next_partner += 1
            row = fx.partner_row(pid, name, is_company=False, country_id=country, customer_rank=rng.randint(1, 5),
                                 email=f"{name.split()[0].lower()}@example.com",
                                 property_payment_term_id=None)
            when = self.written()
            row.update(write_date=when, create_date=when)
            rows.append(row)
            self.customers.append(Customer(pid, name, country, None, COUNTRY_CURRENCY.get(country, EUR), None))
        fx.insert_partners(rows)
        tags = [(c.id, self.rng.randint(1, 7)) for c in self.customers[::4]]
        insert(fx.conn, "x_sb_rel", ["model", "field", "id1", "id2"],
               [("res.partner", "category_id", pid, tag) for pid, tag in tags])

    def company_for(self, customer: Customer) -> int:
        if customer.company:
            return customer.company
        eu = customer.country in EU_COUNTRIES or customer.country == 231
        if eu:
            return COMPANY_EU if self.rng.random() < 0.7 else COMPANY_US
        return COMPANY_US if self.rng.random() < 0.9 else COMPANY_EU

    def currency_for(self, customer: Customer, company: int) -> int:
        if customer.currency != COMPANY_CURRENCY[company] and self.rng.random() < 0.8:
            return customer.currency
        return COMPANY_CURRENCY[company]

    def billed_partner(self, customer: Customer) -> int:
        if customer.invoice_address and self.rng.random() < 0.5:
            return customer.invoice_address
        if customer.contacts and self.rng.random() < 0.15:
            return self.rng.choice(customer.contacts)
        return customer.id

    # -- orders -----------------------------------------------------------------
    def orders(self) -> None:
        fx, rng = self.fx, self.rng
        states = ["draft"] * 32 + ["sent"] * 14 + ["sale"] * 98 + ["cancel"] * 26
        rng.shuffle(states)
        rows, links = [], []
        dated = []
        for state in states:
            customer = rng.choice([c for c in self.customers if c.name not in ARCHIVED])
            back = rng.randint(0, 30) if state in ("draft", "sent") else rng.randint(1, 240)
            dated.append((back, rng.random(), state, customer))
        dated.sort(key=lambda d: (-d[0], d[1]))  # oldest orders first, like a real history
        for number, (back, _key, state, customer) in enumerate(dated, start=1):
            company = self.company_for(customer)
            currency = self.currency_for(customer, company) if rng.random() < 0.3 else COMPANY_CURRENCY[company]
            digits = DIGITS[currency]
            untaxed = round_money(self.amount(currency) / 2, digits)
            tax = round_money(untaxed * TAX_RATE[company], digits)
            total = round_money(untaxed + tax, digits)
            order_moment = datetime.combine(self.today - timedelta(days=back), datetime.min.time()) + \
                timedelta(hours=rng.randint(7, 18), minutes=rng.randint(0, 59))
            policy_delivery = rng.random() < 0.6
            delivered = 0.0
            if state == "sale" and policy_delivery:
                delivered = rng.choice([0.0, 0.5, 1.0, 1.0])
            eligible = total if not policy_delivery else round_money(total * delivered, digits)
            invoiced = 0.0
            status = "no"
            if state == "sale":
                roll = rng.random()
                if eligible > 0 and roll < 0.3:
                    invoiced = round_money(min(eligible, total * rng.uniform(0.3, 0.7)), digits)
                elif eligible > 0 and roll < 0.55:
                    invoiced = eligible
                if invoiced and invoiced >= total:
                    status = "invoiced"
                elif eligible - invoiced > 0:
                    status = "to invoice"
            partner = self.billed_partner(customer)
            when = self.written()
            name = f"S{number:05d}"
            rows.append({
                "id": number, "name": name, "state": state, "locked": int(state == "sale" and rng.random() < 0.2),
                "partner_id": customer.id, "partner_invoice_id": customer.invoice_address or customer.id,
                "partner_shipping_id": customer.id, "company_id": company, "currency_id": currency,
                "date_order": stamp(order_moment.replace(microsecond=0)), "validity_date": (order_moment.date() + timedelta(days=30)).isoformat(),
                "user_id": 2, "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total,
                "invoice_status": status, "payment_term_id": customer.term, "x_sb_eligible_amount": eligible,
                "require_signature": 1, "require_payment": 0,
                "create_date": min(when, stamp(order_moment.replace(microsecond=0))), "create_uid": 2, "write_date": when, "write_uid": 2,
            })
            if invoiced:
                parts = [invoiced] if rng.random() < 0.7 or DIGITS[currency] == 0 else \
                    [round_money(invoiced / 2, digits), round_money(invoiced - round_money(invoiced / 2, digits), digits)]
                for part in parts:
                    inv_back = rng.randint(0, max(0, back - 1))
                    invoice_date = self.day(-inv_back)
                    term = TERM_DAYS.get(customer.term or 1, 0)
                    move = self.posted_move("out_invoice", customer, company, currency, invoice_date,
                                            (self.today - timedelta(days=inv_back) + timedelta(days=term)).isoformat(),
                                            round_money(part / (1 + TAX_RATE[company]), digits), partner=partner)
                    move.origin, move.order = name, number
                    self.moves.append(move)
                    links.append((number, move))
        columns = sorted(rows[0])
        insert(fx.conn, "sale_order", columns, ([r[c] for c in columns] for r in rows))
        self.order_links = links

    # -- invoices -----------------------------------------------------------------
    def payment(self, bucket: int) -> tuple[str, float]:
        roll = self.rng.random()
        paid = [0.08, 0.18, 0.25, 0.3, 0.35][bucket]
        if roll < paid:
            return "paid", 0.0
        if roll < paid + 0.2:
            return "partial", self.rng.uniform(0.15, 0.85)
        return "not_paid", 1.0

    def posted_move(self, move_type: str, customer: Customer, company: int, currency: int, invoice_date: str,
                    due: str, untaxed: float, partner: int | None = None, bucket: int | None = None,
                    payment: tuple[str, float] | None = None) -> Move:
        if payment is None:
            if bucket is None:
                overdue = (self.today - date.fromisoformat(due)).days
                bucket = next((i for i, (lo, hi) in enumerate(BUCKETS) if lo <= overdue <= hi), 4 if overdue > 0 else 0)
            payment = self.payment(bucket)
        state, share = payment
        return Move(move_type, "posted", state, company, currency, partner or customer.id, customer.id,
                    invoice_date, due, untaxed, share, customer.term)

    def invoices(self) -> None:
        rng = self.rng
        active = [c for c in self.customers]
        forced = [(b, cur) for b in range(len(BUCKETS)) for cur in (USD, EUR, GBP, JPY)]
        for i in range(300):
            bucket = i % len(BUCKETS)
            customer = rng.choice(active)
            company = self.company_for(customer)
            currency = self.currency_for(customer, company)
            payment = None
            if i < len(forced):
                bucket, currency = forced[i]
                company = COMPANY_US if currency in (USD, JPY) or i % 2 else COMPANY_EU
                customer = rng.choice([c for c in active if c.company in (None, company)])
                payment = ("not_paid", 1.0) if i % 2 == 0 else ("partial", rng.uniform(0.2, 0.8))
            lo, hi = BUCKETS[bucket]
            overdue = rng.randint(lo, hi)
            term = TERM_DAYS.get(customer.term or 1, 0)
            due = self.today - timedelta(days=overdue)
            invoice_day = due - timedelta(days=term)
            if invoice_day > self.today:
                invoice_day = self.today - timedelta(days=rng.randint(0, 3))
            untaxed = self.amount(currency)
            move = self.posted_move("out_invoice", customer, company, currency, invoice_day.isoformat(),
                                    due.isoformat(), untaxed, partner=self.billed_partner(customer), bucket=bucket,
                                    payment=payment)
            self.moves.append(move)
        # credit notes reversing whole invoices: invoice "reversed", credit note "paid"
        candidates = [m for m in self.moves if m.order is None and m.payment_state == "not_paid"]
        for invoice in rng.sample(candidates, 12):
            invoice.payment_state, invoice.residual_share = "reversed", 0.0
            refund_day = min(self.today, date.fromisoformat(invoice.invoice_date) + timedelta(days=rng.randint(1, 20)))
            refund = Move("out_refund", "posted", "paid", invoice.company, invoice.currency, invoice.partner,
                          invoice.commercial, refund_day.isoformat(), refund_day.isoformat(), invoice.untaxed, 0.0)
            refund.reverses = invoice
            self.moves.append(refund)
        # standalone credit notes (open credit, partly or fully used)
        for i in range(36):
            customer = rng.choice(active)
            company = self.company_for(customer)
            currency = self.currency_for(customer, company)
            back = rng.randint(0, 300)
            day = self.day(-back)
            roll = rng.random()
            payment = ("not_paid", 1.0) if roll < 0.6 else ("paid", 0.0) if roll < 0.85 else \
                ("partial", rng.uniform(0.2, 0.8))
            untaxed = round_money(self.amount(currency) / 3, DIGITS[currency])
            self.moves.append(self.posted_move("out_refund", customer, company, currency, day, day, untaxed,
                                               partner=self.billed_partner(customer), payment=payment))
        # drafts and cancelled documents
        for i in range(16):
            customer = rng.choice(active)
            company = self.company_for(customer)
            currency = self.currency_for(customer, company)
            move_type = "out_refund" if i % 8 == 7 else "out_invoice"
            day = self.day(-rng.randint(0, 20)) if i % 3 else None
            self.moves.append(Move(move_type, "draft", "not_paid", company, currency, customer.id, customer.id,
                                   day, day, self.amount(currency), 1.0, customer.term))
        for i in range(8):
            customer = rng.choice(active)
            company = self.company_for(customer)
            currency = self.currency_for(customer, company)
            day = self.day(-rng.randint(5, 200))
            self.moves.append(Move("out_invoice", "cancel", "not_paid", company, currency, customer.id, customer.id,
                                   day, day, self.amount(currency), 1.0, customer.term))

    def write_moves(self) -> None:
        fx, rng = self.fx, self.rng
        for move in self.moves:
            move.key = rng.random()
        ordered = sorted(self.moves, key=lambda m: (m.invoice_date or self.today.isoformat(), m.key))
        counters: dict[tuple[int, str, str], int] = {}
        for move_id, move in enumerate(ordered, start=1):
            move.id = move_id
            if move.state != "draft":
                prefix = "INV" if move.move_type == "out_invoice" else "RINV"
                year = (move.invoice_date or self.today.isoformat())[:4]
                key = (move.company, prefix, year)
                counters[key] = counters.get(key, 0) + 1
                move.name = f"{prefix}/{year}/{counters[key]:05d}"
        columns = fx._columns("account_move")
        rows = [self.move_row(m, columns) for m in ordered]
        names = sorted({c for r in rows for c in r})
        insert(fx.conn, "account_move", names, ([r.get(c) for c in names] for r in rows))
        insert(fx.conn, "x_sb_sale_invoice", ["order_id", "move_id"], [(o, m.id) for o, m in self.order_links])

    def move_row(self, move: Move, columns: set[str]) -> dict[str, Any]:
        fx = self.fx
        digits = DIGITS[move.currency]
        company_digits = DIGITS[COMPANY_CURRENCY[move.company]]
        untaxed = round_money(move.untaxed, digits)
        tax = round_money(untaxed * TAX_RATE[move.company], digits)
        total = round_money(untaxed + tax, digits)
        if move.state == "posted":
            residual = round_money(total * move.residual_share, digits)
            if move.payment_state == "partial" and not 0 < residual < total:
                residual = round_money(total / 2, digits) or total
        else:
            residual = total
        day = move.invoice_date or self.today.isoformat()
        rate = fx.rate(move.company, move.currency, day)
        sign = -1 if move.move_type == "out_refund" else 1

        def signed(value: float) -> float:
            return sign * round_money(value / rate, company_digits)

        when = self.written()
        created = min(when, f"{day} 09:{self.rng.randint(10, 59):02d}:00")
        row = {
            "id": move.id, "name": move.name, "move_type": move.move_type, "state": move.state,
            "payment_state": move.payment_state, "partner_id": move.partner, "commercial_partner_id": move.commercial,
            "partner_shipping_id": move.partner, "company_id": move.company, "currency_id": move.currency,
            "journal_id": fx.sale_journal[move.company], "date": day, "invoice_date": move.invoice_date,
            "invoice_date_due": move.due, "invoice_payment_term_id": move.term, "invoice_origin": move.origin,
            "ref": f"Reversal of: {move.reverses.name}" if move.reverses else None,
            "reversed_entry_id": move.reverses.id if move.reverses else None,
            "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total, "amount_residual": residual,
            "amount_untaxed_signed": signed(untaxed), "amount_tax_signed": signed(tax),
            "amount_total_signed": signed(total), "amount_residual_signed": signed(residual),
            "amount_total_in_currency_signed": sign * total, "auto_post": "no", "is_move_sent": int(move.state == "posted"),
            "invoice_user_id": 2, "create_date": created, "create_uid": 2, "write_date": when, "write_uid": 2,
        }
        if "amount_untaxed_in_currency_signed" in columns:
            row["amount_untaxed_in_currency_signed"] = sign * untaxed
        if "invoice_currency_rate" in columns:
            row["invoice_currency_rate"] = rate
        return row


    # -- instalments and payments on account (after everything else: the other records keep their ids) ------
    def extras(self) -> None:
        """Contoso Ltd (C00013): an invoice on the 30 % now / 70 % in 60 days term whose first instalment is 40
        days late (the invoice's own due date, the last instalment's, is still 20 days ahead); Globex
        Corporation (C00015): a payment of 1,000.00 USD received on account, matched to no invoice."""
        fx = self.fx
        by_name = {c.name: c for c in self.customers}
        contoso, globex = by_name["Contoso Ltd"], by_name["Globex Corporation"]
        invoice_day = self.today - timedelta(days=INSTALMENT_LATE_DAYS)
        move = Move("out_invoice", "posted", "not_paid", COMPANY_US, USD, contoso.id, contoso.id,
                    invoice_day.isoformat(), (invoice_day + timedelta(days=60)).isoformat(), 8000.0, 1.0,
                    INSTALMENT_TERM)
        move.id = 1 + max(m.id for m in self.moves)
        year = move.invoice_date[:4]
        last = fx.conn.execute('SELECT "name" FROM "account_move" WHERE "company_id" = ? AND "name" LIKE ? '
                               'ORDER BY "name" DESC LIMIT 1', [COMPANY_US, f"INV/{year}/%"]).fetchone()
        move.name = f"INV/{year}/{(int(last[0].rsplit('/', 1)[1]) if last else 0) + 1:05d}"
        row = self.move_row(move, fx._columns("account_move"))
        names = sorted(row)
        insert(fx.conn, "account_move", names, [[row[c] for c in names]])
        self.moves.append(move)
        receivables.rebuild(fx.conn, None, None)  # every document's receivable items, stamped with it
        receivables.post_payment_on_account(fx.conn, partner_id=globex.id, amount=UNAPPLIED_PAYMENT,
                                            company_id=COMPANY_US, currency_id=USD, day=self.day(-3),
                                            stamp=self.written())
        self.settlements()

    def settlements(self) -> None:
        """The payments of the paid and partly paid invoices, reconciled with their instalments as Odoo records
        them (a payment entry and ``account.partial.reconcile`` rows): paid between a week early and two months
        late, never after today, so that the payment figures (days late, share paid late) have a history."""
        fx = self.fx
        rng = random.Random(SEED + 1)  # apart from the main generator: the rest of the data stays as it was
        for move in sorted(self.moves, key=lambda m: m.id):
            if move.move_type != "out_invoice" or move.state != "posted" or move.payment_state not in ("paid",
                                                                                                         "partial"):
                continue
            full = {line: (balance, amount) for line, balance, amount in fx.conn.execute(
                'SELECT "id", "balance", "amount_currency" FROM "account_move_line" WHERE "move_id" = ? '
                'AND "display_type" = \'payment_term\'', [move.id])}
            invoiced = date.fromisoformat(move.invoice_date or self.today.isoformat())
            due = date.fromisoformat(move.due) if move.due else invoiced
            paid = min(max(due + timedelta(days=rng.choice((-7, -2, 0, 0, 3, 12, 25, 45, 60))), invoiced), self.today)
            receivables.reconcile_payment(fx.conn, move.id, full, day=paid.isoformat(), stamp=self.written())


INSTALMENT_TERM = 8  # "30% Now, Balance 60 Days"
INSTALMENT_LATE_DAYS = 40
UNAPPLIED_PAYMENT = 1000.0


def load(fx: Fixtures) -> None:
    demo = Demo(fx)
    demo.partners()
    demo.orders()
    demo.invoices()
    demo.write_moves()
    demo.extras()


def make_rng() -> random.Random:
    return random.Random(SEED)
