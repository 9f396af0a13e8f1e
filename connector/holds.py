"""A hold's write into the ERP: its idempotency key and the outbox entry that carries it.

Shared by enforcement and by the checks at confirmation, so that a hold decided at confirmation and the
same hold found by ``enforce`` are one write (one key, one note), whichever comes first.
"""

from __future__ import annotations

from typing import Any

from .outbox import Outbox
from .store.outbox import HoldRecord


# the reason of a hold placed again because the release in the ERP was recorded at a lower approval tier than the
# hold's: it says why the hold is back, it is not one of the policy's reasons (a hold is the same hold whatever)
RELEASE_TIER_TOO_LOW = "release_tier_too_low"


def policy_codes(reasons: list[dict[str, str]]) -> list[str]:
    """The codes of a hold's reasons that come from the policy (what makes two holds the same)."""
    return [r["code"] for r in reasons if r["code"] != RELEASE_TIER_TOO_LOW]


def hold_key(record: HoldRecord) -> str:
    return f"{record.source}:hold:{record.order_erp_id}:r{record.revision}"


def queue_hold(outbox: Outbox, record: HoldRecord, customer_name: str | None, currency: str,
               conn: Any = None) -> str:
    """Queue the absolute state of the hold (placed or released) for the ERP; returns its key."""
    held = record.state == "held"
    key = hold_key(record)
    outbox.enqueue(
        source=record.source,
        kind="place_hold" if held else "release_hold",
        target_model="sale.order",
        target_id=record.order_erp_id,
        key=key,
        payload={
            "order": record.order_number,
            "held": held,
            "revision": record.revision,
            "reasons": record.reasons,
            "codes": [r["code"] for r in record.reasons],
            "release_tier": record.release_tier,
            "since": record.since.isoformat(),
            "customer": customer_name,
            "exposure": record.exposure,
            "currency": currency,
        },
        conn=conn,
    )
    return key
