"""Records every data set starts from: companies, currencies and rates, users, journals, modules.

Ids are fixed so tests can rely on them (see ``README`` of the sandbox):
companies 1 ``YourCompany`` (USD) and 2 ``My EU Company`` (EUR); currencies
1 USD, 2 EUR, 3 GBP, 4 JPY (active), 5 CHF, 6 CAD (archived); users 1
``__system__`` (archived), 2 ``admin``, 7 ``portal``.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from . import credit_guard, mail, schema
from .convert import stored_datetime
from .orm import model_class
from .partners import complete_name

USD, EUR, GBP, JPY = 1, 2, 3, 4
COMPANY_US, COMPANY_EU = 1, 2
COMPANY_CURRENCY = {COMPANY_US: USD, COMPANY_EU: EUR}
TAX_RATE = {COMPANY_US: 0.15, COMPANY_EU: 0.21}
ADMIN_UID, PORTAL_UID = 2, 7
ADMIN_PARTNER, PORTAL_PARTNER = 3, 5
FIRST_CUSTOMER_ID = 10

CURRENCIES = [
    # id, code, full name, symbol, position, rounding, decimals, active, unit, subunit, iso
    (USD, "USD", "United States dollar", "$", "before", 0.01, 2, True, "Dollars", "Cents", 840),
    (EUR, "EUR", "Euro", "€", "after", 0.01, 2, True, "Euros", "Cents", 978),
    (GBP, "GBP", "Pound sterling", "£", "before", 0.01, 2, True, "Pounds", "Pence", 826),
    (JPY, "JPY", "Japanese yen", "¥", "before", 1.0, 0, True, "Yen", "Sen", 392),
    (5, "CHF", "Swiss franc", "CHF", "after", 0.01, 2, False, "Francs", "Centimes", 756),
    (6, "CAD", "Canadian dollar", "$", "before", 0.01, 2, False, "Dollars", "Cents", 124),
]
DIGITS = {c[0]: c[6] for c in CURRENCIES}
CODES = {c[0]: c[1] for c in CURRENCIES}

#: units of a currency per unit of the company currency (around which rates drift)
BASE_RATES = {
    COMPANY_US: {EUR: 0.92, GBP: 0.79, JPY: 151.0},
    COMPANY_EU: {USD: 1.087, GBP: 0.86, JPY: 164.0},
}

COUNTRIES = [
    # id, code, name, currency, phone code
    (233, "US", "United States", USD, 1), (20, "BE", "Belgium", EUR, 32), (57, "DE", "Germany", EUR, 49),
    (75, "FR", "France", EUR, 33), (231, "GB", "United Kingdom", GBP, 44), (165, "NL", "Netherlands", EUR, 31),
    (113, "JP", "Japan", JPY, 81), (109, "IT", "Italy", EUR, 39), (68, "ES", "Spain", EUR, 34),
    (43, "CH", "Switzerland", 5, 41), (38, "CA", "Canada", 6, 1), (103, "IE", "Ireland", EUR, 353),
]

PAYMENT_TERMS = [
    # id, name, days (for due dates)
    (1, "Immediate Payment", 0), (2, "15 Days", 15), (3, "21 Days", 21), (4, "30 Days", 30),
    (5, "45 Days", 45), (6, "End of Following Month", 45), (7, "10 Days after End of Next Month", 55),
    (8, "30% Now, Balance 60 Days", 60),
]
TERM_DAYS = {t[0]: t[2] for t in PAYMENT_TERMS}

TAGS = [(1, "Vendor"), (2, "Prospects"), (3, "Employees"), (4, "Consulting Services"),
        (5, "Office Supplies"), (6, "Manufacturer"), (7, "Desk Manufacturers")]

MODULES = [
    # name, shortdesc, state, application, sequence
    ("base", "Base", "installed", False, 1), ("web", "Web", "installed", False, 100),
    ("mail", "Discuss", "installed", True, 5), ("product", "Products & Pricelists", "installed", False, 100),
    ("uom", "Units of measure", "installed", False, 100), ("analytic", "Analytic Accounting", "installed", False, 100),
    ("portal", "Customer Portal", "installed", False, 100), ("account", "Invoicing", "installed", True, 10),
    ("sale", "Sales", "installed", False, 20), ("sale_management", "Sales", "installed", True, 15),
    ("contacts", "Contacts", "installed", True, 150), ("crm", "CRM", "uninstalled", True, 15),
    ("stock", "Inventory", "uninstalled", True, 25), ("purchase", "Purchase", "uninstalled", True, 30),
    ("account_accountant", "Accounting", "uninstallable", True, 30),
]

#: (code, name, type) of the journals of each company; the sales journal comes first.
JOURNALS = [("INV", "Customer Invoices", "sale", 5), ("BILL", "Vendor Bills", "purchase", 6),
            ("MISC", "Miscellaneous Operations", "general", 9), ("BNK1", "Bank", "bank", 10)]
ACCOUNTS = [("101401", "Bank", "asset_cash"), ("101402", "Bank Suspense Account", "asset_current"),
            ("101403", "Outstanding Receipts", "asset_current"), ("101404", "Outstanding Payments", "asset_current"),
            ("110100", "Stock Valuation", "asset_current"), ("121000", "Account Receivable", "asset_receivable"),
            ("211000", "Account Payable", "liability_payable"), ("400000", "Product Sales", "income")]


def insert(conn: sqlite3.Connection, table: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(columns))})',
                     (tuple(r) for r in rows))


def stamp(moment: datetime) -> str:
    """A stored ``create_date``/``write_date`` (microseconds kept, as PostgreSQL does)."""
    return stored_datetime(moment)


class Fixtures:
    """Writes the base records and offers rates and partner helpers to the data sets."""

    def __init__(self, conn: sqlite3.Connection, version: str, today: date, now: datetime,
                 rng: random.Random, addons: tuple[str, ...] = ()) -> None:
        self.conn, self.version, self.today, self.now, self.rng = conn, version, today, now, rng
        self.addons = tuple(addons)
        self.base_stamp = stamp(now - timedelta(days=30))
        self.rates: dict[tuple[int, int], list[tuple[str, float]]] = {}
        self.sale_journal: dict[int, int] = {}
        self.receivable: dict[int, int] = {}
        self.payable: dict[int, int] = {}

    def log(self, uid: int = ADMIN_UID, when: str | None = None) -> list[Any]:
        when = when or self.base_stamp
        return [when, uid, when, uid]

    LOG = ["create_date", "create_uid", "write_date", "write_uid"]

    def load(self) -> None:
        self._countries()
        self._currencies()
        self._companies_and_users()
        self._accounting()
        self._modules_and_tags()
        self._rates()
        self._mail_and_xmlids()

    def _countries(self) -> None:
        insert(self.conn, "res_country", ["id", "code", "name", "currency_id", "phone_code", *self.LOG],
               [(i, code, name, cur, phone, *self.log()) for i, code, name, cur, phone in COUNTRIES])

    def _currencies(self) -> None:
        cols = ["id", "name", "full_name", "symbol", "position", "rounding", "decimal_places", "active",
                "currency_unit_label", "currency_subunit_label", *self.LOG]
        has_iso = self.version == "19"
        if has_iso:
            cols.insert(-4, "iso_numeric")
        rows = []
        for c in CURRENCIES:
            row = list(c[:10]) + ([c[10]] if has_iso else []) + self.log()
            rows.append(row)
        insert(self.conn, "res_currency", cols, rows)

    def partner_row(self, pid: int, name: str, *, is_company: bool, parent: dict | None = None,
                    company_name: str | None = None, ptype: str = "contact", **extra: Any) -> dict[str, Any]:
        """A res.partner row with its stored computed fields filled in."""
        if parent is None or is_company:
            commercial, ccn = pid, (name if is_company else company_name)
        else:
            commercial = parent["commercial_partner_id"]
            ccn = parent["commercial_company_name"] or company_name
        row = {
            "id": pid, "name": name, "is_company": int(is_company), "parent_id": parent["id"] if parent else None,
            "company_name": company_name, "type": ptype, "commercial_partner_id": commercial,
            "commercial_company_name": ccn,
            "complete_name": complete_name(self.version, name, is_company, parent["name"] if parent else None,
                                           ccn, company_name, ptype, parent is not None),
            "active": 1, "lang": "en_US", "customer_rank": 0, "supplier_rank": 0, "color": 0,
            "partner_share": 1, "employee": 0,
            "property_account_receivable_id": self.receivable.get(COMPANY_US),
            "property_account_payable_id": self.payable.get(COMPANY_US),
        }
        if self.version == "17":
            row.update(invoice_warn="no-message", sale_warn="no-message")
        else:
            row.update(autopost_bills="ask")
        row.update(extra)
        return row

    def insert_partners(self, rows: list[dict[str, Any]], when: str | None = None) -> None:
        if not rows:
            return
        columns = sorted({c for r in rows for c in r} | set(self.LOG))
        default_log = dict(zip(self.LOG, self.log(when=when)))
        insert(self.conn, "res_partner", columns,
               ([r.get(c, default_log.get(c)) for c in columns] for r in rows))

    def _companies_and_users(self) -> None:
        us = self.partner_row(1, "YourCompany", is_company=True, country_id=233, email="info@yourcompany.com",
                              phone="+1 555-555-5556", street="250 Executive Park Blvd, Suite 3400",
                              city="San Francisco", zip="94134", website="http://www.example.com",
                              partner_share=0)
        bot = self.partner_row(2, "OdooBot", is_company=False, active=0, email="odoobot@example.com", partner_share=0)
        admin = self.partner_row(ADMIN_PARTNER, "Mitchell Admin", is_company=False, parent=us,
                                 email="admin@yourcompany.example.com", tz="Europe/Brussels", partner_share=0,
                                 country_id=233)
        eu = self.partner_row(4, "My EU Company", is_company=True, country_id=20, email="info@eucompany.example.com",
                              city="Brussels", zip="1000", street="Rue de la Loi 16", vat="BE0477472701",
                              partner_share=0)
        portal = self.partner_row(PORTAL_PARTNER, "Joel Willis", is_company=False, company_name="YourCompany",
                                  email="joel.willis63@example.com", phone="(683)-556-5104", country_id=233,
                                  tz="Europe/Brussels")
        self.insert_partners([us, bot, admin, eu, portal])
        cols = ["id", "name", "partner_id", "currency_id", "sequence", "active", "account_fiscal_country_id",
                "fiscalyear_last_day", "fiscalyear_last_month", "layout_background", *self.LOG]
        if "account_opening_date" in self._columns("res_company"):
            cols.insert(-4, "account_opening_date")
        rows = []
        for cid, name, partner, currency, country in ((COMPANY_US, "YourCompany", 1, USD, 233),
                                                      (COMPANY_EU, "My EU Company", 4, EUR, 20)):
            row = [cid, name, partner, currency, 10, 1, country, 31, "12", "Blank"]
            if "account_opening_date" in cols:
                row.append(f"{self.today.year}-01-01")
            rows.append(row + self.log())
        insert(self.conn, "res_company", cols, rows)
        insert(self.conn, "res_users", ["id", "login", "partner_id", "company_id", "active", "share", *self.LOG], [
            (1, "__system__", 2, COMPANY_US, 0, 0, *self.log(uid=1)),
            (ADMIN_UID, "admin", ADMIN_PARTNER, COMPANY_US, 1, 0, *self.log(uid=1)),
            (PORTAL_UID, "portal", PORTAL_PARTNER, COMPANY_US, 1, 1, *self.log()),
        ])
        insert(self.conn, "x_sb_rel", ["model", "field", "id1", "id2"], [
            ("res.users", "company_ids", 1, COMPANY_US), ("res.users", "company_ids", 1, COMPANY_EU),
            ("res.users", "company_ids", ADMIN_UID, COMPANY_US), ("res.users", "company_ids", ADMIN_UID, COMPANY_EU),
            ("res.users", "company_ids", PORTAL_UID, COMPANY_US),
        ])

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.conn.execute(f'PRAGMA table_info("{table}")')}

    def _accounting(self) -> None:
        journal_id, account_id = 1, 1
        journals, accounts = [], []
        for company in (COMPANY_US, COMPANY_EU):
            for code, name, jtype, seq in JOURNALS:
                journals.append((journal_id, code, name, jtype, seq, company, 1, *self.log()))
                if jtype == "sale":
                    self.sale_journal[company] = journal_id
                journal_id += 1
            for code, name, atype in ACCOUNTS:
                accounts.append((account_id, code, name, atype, int(atype.endswith(("receivable", "payable"))),
                                 company, *self.log()))
                if atype == "asset_receivable":
                    self.receivable[company] = account_id
                elif atype == "liability_payable":
                    self.payable[company] = account_id
                account_id += 1
            account_id = 11
        insert(self.conn, "account_journal", ["id", "code", "name", "type", "sequence", "company_id", "active",
                                              *self.LOG], journals)
        insert(self.conn, "account_account", ["id", "code", "name", "account_type", "reconcile", "company_id",
                                              *self.LOG], accounts)
        insert(self.conn, "account_payment_term", ["id", "name", "sequence", "active", *self.LOG],
               [(i, name, 10, 1, *self.log()) for i, name, _days in PAYMENT_TERMS])
        self.conn.execute('UPDATE "res_partner" SET "property_account_receivable_id" = ?, '
                          '"property_account_payable_id" = ?', [self.receivable[COMPANY_US], self.payable[COMPANY_US]])

    def _modules_and_tags(self) -> None:
        modules = list(MODULES)
        if self.version == "19":
            modules.append(("rpc", "RPC endpoints", "installed", False, 100))
        if "sale_stock" in self.addons:  # installing sale_stock installs stock (see stock.py)
            modules = [(n, d, "installed" if n == "stock" else st, a, q) for n, d, st, a, q in modules]
            modules.append(("sale_stock", "Sales and Warehouse Management", "installed", False, 100))
        rows = [{"id": i, "name": name, "shortdesc": desc, "state": state, "application": int(app), "sequence": seq,
                 "latest_version": f"{self.version}.0.1.0" if state == "installed" else None, "author": "Odoo S.A.",
                 "license": "LGPL-3"} for i, (name, desc, state, app, seq) in enumerate(modules, start=1)]
        if "credit_guard" in self.addons:
            rows.append({"id": len(rows) + 1, **credit_guard.module_row(self.version)})
        columns = sorted({c for r in rows for c in r})
        insert(self.conn, "ir_module_module", [*columns, *self.LOG],
               [[r.get(c) for c in columns] + self.log() for r in rows])
        insert(self.conn, "res_partner_category", ["id", "name", "active", "color", "parent_path", *self.LOG],
               [(i, name, 1, i, f"{i}/", *self.log()) for i, name in TAGS])

    def _mail_and_xmlids(self) -> None:
        """Message subtypes, activity types, ``ir.model`` and the external ids (``ir.model.data``)."""
        insert(self.conn, "mail_message_subtype", ["id", "name", "internal", "default", "sequence", "hidden",
                                                   "track_recipients", *self.LOG],
               [(i, name, int(internal), int(default), seq, 0, 0, *self.log())
                for i, _xmlid, name, internal, default, seq in mail.SUBTYPES])
        types = mail.activity_type_rows(self.version)
        columns = sorted(types[0])
        insert(self.conn, "mail_activity_type", [*columns, *self.LOG],
               ([t[c] for c in columns] + self.log() for t in types))
        models = list(schema.load(self.version))
        descriptions = {name: model_class(name)._description for name in models}
        threads = {name for name in models if issubclass(model_class(name), mail.MailThread)}
        irm = mail.model_rows(models, descriptions, threads)
        columns = [c for c in irm[0] if c != "module"]
        insert(self.conn, "ir_model", [*columns, *self.LOG], ([m[c] for c in columns] + self.log() for m in irm))
        xmlids: list[tuple[str, str, str, int]] = [
            (m["module"], f"model_{m['model'].replace('.', '_')}", "ir.model", m["id"]) for m in irm]
        xmlids += [("mail", xmlid, "mail.message.subtype", i) for i, xmlid, *_rest in mail.SUBTYPES]
        xmlids += [(*xmlid.split("."), "mail.activity.type", i) for i, xmlid, *_rest in mail.ACTIVITY_TYPES]
        xmlids += [("base", "main_company", "res.company", COMPANY_US), ("base", "main_partner", "res.partner", 1),
                   ("base", "partner_root", "res.partner", 2), ("base", "partner_admin", "res.partner", ADMIN_PARTNER),
                   ("base", "partner_demo_portal", "res.partner", PORTAL_PARTNER),
                   ("base", "user_root", "res.users", 1), ("base", "user_admin", "res.users", ADMIN_UID),
                   ("base", "demo_user0", "res.users", PORTAL_UID)]
        xmlids += [("base", code, "res.currency", i) for i, code, *_rest in CURRENCIES]
        xmlids += [("base", code.lower(), "res.country", i) for i, code, *_rest in COUNTRIES]
        xmlids += [("base", f"module_{name}", "ir.module.module", i) for i, name in
                   self.conn.execute('SELECT "id", "name" FROM "ir_module_module" ORDER BY "id"')]
        insert(self.conn, "ir_model_data", ["id", "module", "name", "model", "res_id", "noupdate", *self.LOG],
               [(i, module, name, model, res_id, 0, *self.log())
                for i, (module, name, model, res_id) in enumerate(xmlids, start=1)])

    def _rates(self) -> None:
        """Monthly rates over the last 15 months, for both companies, within 3% of the base rates."""
        rows = []
        rate_id = 1
        first = date(self.today.year, self.today.month, 1)
        months = []
        for back in range(15, -1, -1):
            y, m = first.year, first.month - back
            while m <= 0:
                y, m = y - 1, m + 12
            months.append(date(y, m, 1))
        for company, bases in BASE_RATES.items():
            for currency, base in bases.items():
                series = []
                for day in months:
                    rate = round(base * (1 + self.rng.uniform(-0.03, 0.03)), 6)
                    series.append((day.isoformat(), rate))
                    rows.append((rate_id, day.isoformat(), rate, currency, company, *self.log()))
                    rate_id += 1
                self.rates[(company, currency)] = series
        insert(self.conn, "res_currency_rate", ["id", "name", "rate", "currency_id", "company_id", *self.LOG], rows)

    def rate(self, company: int, currency: int, day: str) -> float:
        """Rate of ``currency`` in ``company`` on ``day`` (last one before, else the first)."""
        if COMPANY_CURRENCY[company] == currency:
            return 1.0
        series = self.rates[(company, currency)]
        chosen = series[0][1]
        for name, rate in series:
            if name <= day:
                chosen = rate
        return chosen
