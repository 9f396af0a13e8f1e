"""Cheap change detection for SAP's snapshot streams: the credit master as a fingerprint.

SAP's BAPIs give no change times, so customers, open items and orders are
read whole every cycle.  The credit master (KNKK, read per customer through
``ZFI_CREDIT_DETAIL``) carries running totals that SAP updates with every
posting and every order change — receivables ``Skfor``, special liabilities
``Ssobl``, open sales values ``OpenDelivery`` and the total commitment
``Oblig`` — and the master data the policy uses (limit, risk category,
block).  The credit master in each credit control area (one call per customer,
or one per page of customers with the list service ``ZCG_CREDIT_LIST``) tells
whether a customer's open items or orders can have changed: when the totals
are the same as at the last read, the source does not read that customer's
items again and the engine keeps what the store has (``Scope.unchanged``).

What the totals cannot see (an invoice and a payment of exactly the same
amount between two cycles, a changed payment term or text, a delivery block
removed in SAP) is caught by re-reading each customer at least every
``reconcile_hours`` (``Scope.recheck_at``), and every cycle while one of its
orders carries a delivery block or one of its records is quarantined.
``sync --full`` re-reads everything.  A customer without any credit master
has no fingerprint and is read every cycle; one without a credit master in the
area of some company code is read every cycle while it has records there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from connector.domain import SalesOrder
from connector.ports import Entry, Rejected, Stream

# running totals: they move with every posting (open items) and order change (orders)
TOTALS = ("Kkber", "Currency", "Skfor", "Ssobl", "OpenDelivery", "Oblig")
# values derived from the totals: not part of the customer's master data
DERIVED = ("Skfor", "Ssobl", "OpenDelivery", "Oblig", "Klprz", "Absbt", "Dbekr")


def fingerprint(stream: Stream, address: dict[str, Any], credit: Sequence[dict[str, Any] | None]) -> str | None:
    """What must be unchanged for ``stream``'s records of one customer to be unchanged; None: unknown.

    ``credit``: the customer's credit master in each credit control area read (None where it has
    none).  Customers: the list row (name, country…) and the credit master data without the
    totals; open items and orders: the totals.
    """
    if all(row is None for row in credit):
        return None
    if stream is Stream.CUSTOMERS:
        payload: Any = {"address": address,
                        "credit": [{k: v for k, v in row.items() if k not in DERIVED} for row in credit if row]}
    else:
        payload = [{k: (row or {}).get(k) for k in TOTALS} for row in credit]
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(f"{stream.value}:{text}".encode()).hexdigest()


def recheck_at(entries: Sequence[Entry], now: datetime, reconcile: timedelta,
               unwatched: Collection[str] = ()) -> datetime:
    """When the customer must be read again even with an unchanged fingerprint.

    Now (every cycle) while one of its orders carries a delivery block — a block removed in SAP
    does not move the totals, and a release made there must be seen — while one of its records
    is quarantined (a corrected record need not move them either), or while it has records in a
    company code whose credit control area has no credit master for it (``unwatched``: nothing
    there moves a total); else after ``reconcile``.
    """
    for entry in entries:
        item = entry.item
        if isinstance(item, Rejected) or (isinstance(item, SalesOrder) and item.erp_hold):
            return now
        if getattr(item, "company_id", None) in unwatched:
            return now
    return now + reconcile
