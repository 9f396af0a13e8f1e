"""Table definitions (SQLAlchemy Core).  Migrations create the same schema.

Synced records share one key: (source, erp_model, erp_id).  Money is stored as
integer minor units next to its currency code, never as a float.  Every synced
table carries ``synced_at`` (when the record was read), ``seen_run`` (mark-and-sweep
reconciliation of full syncs) and ``deleted_at`` (set when a full sync no longer
finds the record); re-reading an unchanged record (same column values) writes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from .types import UTCDateTime

NO_DAY = date(1, 1, 1)
# a receivable item that counts: posted, something left open, not deleted (the partial index's condition)
OPEN_ITEM = ("state = 'posted' AND deleted_at IS NULL AND "
             "(amount_open_minor <> 0 OR amount_open_company_minor <> 0)")  # a missing day in a key column of the balances

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _record_columns() -> list[Column]:
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("source", String(64), nullable=False),
        Column("erp_model", String(64), nullable=False),
        Column("erp_id", String(64), nullable=False),
    ]


def _sync_columns() -> list[Column]:
    return [
        Column("changed_at", UTCDateTime(), nullable=False),
        Column("synced_at", UTCDateTime(), nullable=False),
        Column("seen_run", Integer, nullable=True),
        Column("deleted_at", UTCDateTime(), nullable=True),
    ]


companies = Table(
    "companies",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("erp_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("synced_at", UTCDateTime(), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    *_record_columns(),
    Column("ref", Text),
    Column("name", Text, nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("company_id", String(64)),
    Column("country", String(2)),
    Column("vat", Text),
    Column("is_company", Boolean, nullable=False),
    Column("parent_id", String(64)),
    Column("credit_limit_minor", BigInteger),
    Column("credit_limit_currency", String(3)),
    Column("active", Boolean, nullable=False),
    Column("risk_category", String(16)),
    Column("credit_blocked", Boolean, nullable=False, server_default=false()),
    Column("lang", Text),
    Column("registry", Text),
    *_sync_columns(),
    UniqueConstraint("source", "erp_model", "erp_id"),
    Index(None, "source", "credit_group_id"),
    Index(None, "source", "ref"),
    Index(None, "source", "erp_id"),
)

invoices = Table(
    "invoices",
    metadata,
    *_record_columns(),
    Column("number", Text, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("payment_state", String(20), nullable=False),
    Column("invoice_date", Date),
    Column("due_date", Date),
    Column("currency", String(3), nullable=False),
    Column("amount_total_minor", BigInteger, nullable=False),
    Column("amount_open_minor", BigInteger, nullable=False),
    Column("company_id", String(64), nullable=False),
    Column("company_currency", String(3), nullable=False),
    Column("amount_total_company_minor", BigInteger, nullable=False),
    Column("amount_open_company_minor", BigInteger, nullable=False),
    Column("origin", Text),
    *_sync_columns(),
    UniqueConstraint("source", "erp_model", "erp_id"),
    Index(None, "source", "credit_group_id", "state"),
    Index(None, "source", "number"),
    Index(None, "source", "due_date"),
    Index(None, "source", "origin"),
)

orders = Table(
    "orders",
    metadata,
    *_record_columns(),
    Column("number", Text, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("order_date", UTCDateTime()),
    Column("currency", String(3), nullable=False),
    Column("amount_total_minor", BigInteger, nullable=False),
    Column("amount_uninvoiced_minor", BigInteger, nullable=False),
    Column("company_id", String(64), nullable=False),
    Column("project", Text),
    Column("erp_hold", Boolean),
    Column("erp_released_at", UTCDateTime()),
    Column("erp_released_by", Text),
    Column("erp_released_tier", String(64)),
    Column("erp_release_reason", Text),
    *_sync_columns(),
    UniqueConstraint("source", "erp_model", "erp_id"),
    Index(None, "source", "customer_id", "state"),
    Index(None, "source", "number"),
    Index(None, "source", "project"),
    Index(None, "source", "erp_id"),  # is a reserved order in the store yet?
)

currency_rates = Table(
    "currency_rates",
    metadata,
    *_record_columns(),
    Column("currency", String(3), nullable=False),
    Column("company_id", String(64)),
    Column("day", Date, nullable=False),
    Column("rate", String(40), nullable=False),  # exact decimal text; rates are not money
    *_sync_columns(),
    UniqueConstraint("source", "erp_model", "erp_id"),
    Index(None, "source", "currency", "day"),
)

# The items of customers' receivables (domain.ReceivableItem): instalments of invoices, open credit notes,
# unapplied payments, each with its own due date; amounts signed as the ledger has them.  Open items are read
# per credit group through a partial index (what is open today, not the history).
receivable_items = Table(
    "receivable_items",
    metadata,
    *_record_columns(),
    Column("kind", String(16), nullable=False),
    Column("document_id", String(64)),
    Column("document_number", Text, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("document_date", Date),
    Column("due_date", Date),
    Column("currency", String(3), nullable=False),
    Column("amount_open_minor", BigInteger, nullable=False),
    Column("company_id", String(64), nullable=False),
    Column("company_currency", String(3), nullable=False),
    Column("amount_open_company_minor", BigInteger, nullable=False),
    Column("amount_company_minor", BigInteger),  # the item's own amount, signed (None: not known)
    Column("paid_on", Date),  # the day it was settled in full
    *_sync_columns(),
    UniqueConstraint("source", "erp_model", "erp_id"),
    Index("ix_receivable_items_paid", "source", "paid_on", sqlite_where=text("paid_on IS NOT NULL"),
          postgresql_where=text("paid_on IS NOT NULL")),
    Index("ix_receivable_items_open", "source", "credit_group_id", "due_date",
          sqlite_where=text(OPEN_ITEM), postgresql_where=text(OPEN_ITEM)),
    Index(None, "source", "document_id"),
    Index(None, "source", "customer_id"),  # a customer's items, open or not (SAP's clearing of vanished items)
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("last_id", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # streams read by change scans (see connector.ports.ChangeScanning): every change stamped before
    # this moment has committed and been read; and, while a first read runs, the last id it committed
    Column("settled_at", UTCDateTime()),
    Column("resume_after_id", BigInteger),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("stream", String(32), nullable=False),
    Column("full", Boolean, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("status", String(16), nullable=False),  # running | ok | failed
    Column("read", Integer, nullable=False, default=0),
    Column("written", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("deleted", Integer, nullable=False, default=0),
    Column("calls", Integer, nullable=False, default=0),
    Column("error", Text),
    Index(None, "source", "stream", "started_at"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("stream", String(32), nullable=False),
    Column("erp_model", String(64), nullable=False),
    Column("erp_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the raw record as JSON, nothing lost
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("changed_at", UTCDateTime()),  # the ERP change time of the rejected version
    UniqueConstraint("source", "erp_model", "erp_id"),
)

SYNCED_TABLES = {
    "customers": customers,
    "invoices": invoices,
    "orders": orders,
    "currency_rates": currency_rates,
    "receivables": receivable_items,
}

# Fingerprints of the parts of snapshot streams (one per customer), to skip unchanged parts.
snapshot_scopes = Table(
    "snapshot_scopes",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("scope", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("recheck_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("taken_at", UTCDateTime(), nullable=False),
    Column("trigger", String(16), nullable=False),  # check | enforce
    Column("source", String(64), nullable=False),
    Column("order_number", Text, nullable=False),
    Column("order_erp_id", String(64)),
    Column("customer", Text, nullable=False),  # the policy's key: ref, else source:erp_id
    Column("credit_group", String(64), nullable=False),
    Column("result", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("policy_name", Text, nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("record", Text, nullable=False),  # the whole decision with its inputs, as JSON
    Index(None, "source", "order_number"),
    Index(None, "customer"),
    Index(None, "taken_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target_model", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Column("key", String(200), nullable=False),  # idempotency key, fixed before the first attempt
    Column("payload", Text, nullable=False),  # absolute target state, JSON
    Column("state", String(16), nullable=False),  # pending | applied | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("result", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("applied_at", UTCDateTime()),
    UniqueConstraint("key"),
    Index(None, "source", "state", "next_attempt_at"),
)

holds = Table(
    "holds",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("order_erp_id", String(64), primary_key=True),
    Column("order_number", Text, nullable=False),
    Column("state", String(16), nullable=False),  # held | released
    Column("revision", Integer, nullable=False),  # bumped on every change of state
    Column("reasons", Text, nullable=False),  # JSON list of {code, message}
    Column("release_tier", String(64)),
    Column("exposure", String(40), nullable=False),  # exposure (base currency) when the state was set
    Column("since", UTCDateTime(), nullable=False),
    Column("released_by", Text),  # "erp:<user>" when released in the ERP, "policy" when the daemon released it
    Column("updated_at", UTCDateTime(), nullable=False),
    # a release in the ERP honoured: the approval tier it was recorded at and the reason given (None: not recorded)
    Column("released_tier", String(64)),
    Column("release_reason", Text),
)

# Exposure reserved by approvals given at confirmation, counted until the sync brings the order in.
reservations = Table(
    "reservations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("order_erp_id", String(64), nullable=False),
    Column("order_number", Text, nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("company_id", String(64)),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),  # what the order adds to exposure, order currency
    Column("base_currency", String(3), nullable=False),
    Column("base_amount", String(40), nullable=False),  # the same in the policy's currency when approved
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("decision_id", Integer),
    Column("expiry_reported_at", UTCDateTime()),  # when its expiry was logged (once)
    UniqueConstraint("source", "order_erp_id"),
    Index(None, "source", "credit_group_id"),
)

# Running totals of the documents that add to exposure, kept by triggers in the database on every write to
# invoices and orders (migration 0010), so that a credit check reads a few rows per credit group whatever the
# length of its history.  One row per combination of what conversion and the overdue cut need; a row whose
# last document stops counting (paid, cancelled, deleted, moved to another group) is removed.  Days with no
# value are stored as NO_DAY (key columns cannot be NULL).
invoice_balances = Table(
    "invoice_balances",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("credit_group_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("company_id", String(64), primary_key=True),
    Column("company_currency", String(3), primary_key=True),
    Column("invoice_day", Date, primary_key=True),
    Column("due_day", Date, primary_key=True),
    Column("documents", BigInteger, nullable=False),  # posted with an amount open, or draft
    Column("open_documents", BigInteger, nullable=False),  # of those, with an amount open
    Column("open_minor", BigInteger, nullable=False),
    Column("open_company_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("total_company_minor", BigInteger, nullable=False),
    sqlite_with_rowid=False,  # rows stored in key order: a group's rows are read together
)

order_balances = Table(
    "order_balances",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("company_id", String(64), primary_key=True),
    Column("order_day", Date, primary_key=True),  # UTC day of the order date
    Column("documents", BigInteger, nullable=False),  # quotations, and confirmed orders with an amount to invoice
    Column("uninvoiced_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# How many decisions at confirmation a credit group has had: a check decides outside the group's lock, then
# under it writes only if no other decision came in between (else decides again, under the lock).
decision_versions = Table(
    "decision_versions",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("credit_group_id", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# A counter per source and document table ("invoices", "receivables") that every write to the table moves, in its
# own transaction (migration 0019: triggers, and the record writer on SQLite inserts): sums of a group's documents
# read with one value of it hold for as long as it has not moved (connector.store.book_cache).
book_generations = Table(
    "book_generations",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("generation", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# One row a day per source, credit group and company: the group's ageing in that company, in the company's
# currency and in the policy's base currency.  The row with ``company_id`` "" is the group's own (all its
# companies): exposure, limit and overdue (the policy's overdue rule) in the base currency, and its
# consolidated ageing.  A day is written in one transaction, replacing that day's rows of the source.
daily_snapshots = Table(
    "daily_snapshots",
    metadata,
    Column("day", Date, primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("credit_group_id", String(64), primary_key=True),
    Column("company_id", String(64), primary_key=True),  # "": the whole group
    Column("customer", Text, nullable=False),  # the group's key in the policy: ref, else source:erp_id
    Column("currency", String(3), nullable=False),  # the company's currency ("" row: the base currency)
    Column("base_currency", String(3), nullable=False),
    Column("exposure_minor", BigInteger),  # group row only, base currency
    Column("limit_minor", BigInteger),  # group row only, base currency; NULL: no limit
    Column("overdue_minor", BigInteger),  # group row only: beyond the policy's overdue rule, base currency
    Column("past_due_minor", BigInteger, nullable=False),  # every ageing column past due, ``currency``
    Column("past_due_base_minor", BigInteger, nullable=False),
    Column("receivable_minor", BigInteger, nullable=False),  # ageing total (credits netted), ``currency``
    Column("receivable_base_minor", BigInteger, nullable=False),
    Column("ageing", Text, nullable=False),  # JSON: {"buckets", "columns": {key: amount}, "base": {…}, credits}
    Column("taken_at", UTCDateTime(), nullable=False),
    # payment figures (connector.figures): instalments settled in the last payment_months months; NULL: not kept
    Column("payment_months", Integer),
    Column("paid_items", Integer),
    Column("paid_minor", BigInteger),  # their amount, ``currency``
    Column("days_late_tenths", Integer),  # amount-weighted average days late × 10; NULL: nothing settled
    Column("share_late_bp", Integer),  # the share of that amount settled late, basis points (0..10000)
    Index(None, "source", "credit_group_id", "company_id", "day"),  # a group's latest day (credit checks)
    sqlite_with_rowid=False,
)


# Collection cases (connector.cases): one per credit group once it crosses the first dunning level; a closed case
# stays, and the group's next overdue episode opens a new one.  At most one case per group is not closed.
collection_cases = Table(
    "collection_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("customer", Text, nullable=False),  # the group's name when the case opened
    Column("state", String(24), nullable=False),  # open | in_contact | promise_to_pay | disputed | handed_to_collection
    #                                                | claimed | closed
    Column("currency", String(3), nullable=False),  # the policy's base currency: figures, promise, dispute
    Column("opened_on", Date, nullable=False),  # the company's day
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    Column("promise_date", Date),
    Column("promise_amount_minor", BigInteger),
    Column("promise_overdue_minor", BigInteger),  # what was overdue when the promise was given
    Column("dispute_amount_minor", BigInteger),
    Column("dispute_reason", Text),
    Column("revision", Integer, nullable=False),  # bumped on every change
    Index(None, "source", "credit_group_id"),
    Index("ux_collection_cases_active", "source", "credit_group_id", unique=True,
          sqlite_where=text("state <> 'closed'"), postgresql_where=text("state <> 'closed'")),
)

# The append-only history of the cases: every step, change of state and note, with the figures at that moment.
case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False),
    Column("source", String(64), nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("day", Date, nullable=False),  # the company's day (as_of)
    Column("event", String(32), nullable=False),  # opened, dunning_proposed, dunning_sent, promise, dispute, note...
    Column("state", String(24), nullable=False),  # the case's state after the event
    Column("level", Integer),  # dunning events: the level's days past due
    Column("amount_minor", BigInteger),  # promise / dispute amount (the case's currency)
    Column("due_on", Date),  # promise: the date promised
    Column("detail", Text, nullable=False),
    Column("actor", Text, nullable=False),  # "daemon", "cli:<user>", "api:<user>"
    Column("overdue_minor", BigInteger),  # the group's overdue (disputed part included) at the event
    Column("disputed_minor", BigInteger),
    Column("exposure_minor", BigInteger),
    Column("outbox_key", String(200)),  # dunning steps: the key of the write into the ERP
    Index(None, "source", "credit_group_id", "id"),
    Index(None, "case_id", "id"),
)

# Dunning steps: one per case and level, keyed for the outbox before the first attempt.
dunning_steps = Table(
    "dunning_steps",
    metadata,
    Column("case_id", Integer, primary_key=True),
    Column("level", Integer, primary_key=True),  # the level's days past due
    Column("source", String(64), nullable=False),
    Column("credit_group_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # proposed | approved | queued | cancelled
    Column("key", String(200), nullable=False),  # the outbox key
    Column("day", Date, nullable=False),  # the company's day it became due
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_by", Text),
    Column("decided_at", UTCDateTime()),
    UniqueConstraint("key"),
    Index(None, "source", "state"),
)

# Insurer limit decisions imported from the insurers' portal exports (connector.insurer_feed): append-only, one
# row per decision and buyer; the decision in force for a buyer is its latest `decided` (connector.insurer_limits).
insurer_decisions = Table(
    "insurer_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("insurer", Text, nullable=False),
    Column("source", String(64), nullable=False),
    Column("customer_erp_id", String(64), nullable=False),  # the buyer's commercial entity (credit group head)
    Column("customer", Text, nullable=False),  # its policy key when imported: ref, else "source:erp_id"
    Column("customer_name", Text, nullable=False),
    Column("buyer_name", Text),  # as the insurer's file names the buyer
    Column("buyer_id", Text, nullable=False),  # the VAT or registration number the row was matched on
    Column("country", String(2)),
    Column("decision", String(16), nullable=False),  # approved | partly_approved | reduced | withdrawn | refused
    #                                                  | pending
    Column("code", Text, nullable=False),  # the insurer's own decision code
    Column("decided", Date, nullable=False),
    Column("amount_minor", BigInteger),
    Column("currency", String(3)),
    Column("expires", Date),
    Column("grade", Integer),  # on the policy's 1-10 scale
    Column("insurer_grade", Text),  # as the insurer wrote it
    Column("file", Text, nullable=False),
    Column("line", Integer, nullable=False),
    Column("import_id", String(32), nullable=False),  # the import's file digest
    Column("imported_at", UTCDateTime(), nullable=False),
    Index(None, "source", "customer_erp_id", "decided"),
)
