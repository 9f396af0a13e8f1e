"""Writes back into SAP: the header delivery block of a sales order (``VBAK-LIFSK``).

Implements :class:`connector.ports.ERPWriter`.  A hold is a delivery block with
*our* code (configuration ``delivery_block``, a TVLS entry of the target system);
a release clears it — only if it is still ours.  Every write first reads the
order (``BAPI_SALESORDER_GETLIST``), so an entry applied twice (after a lost
answer, a crash, a restart) changes nothing, and reads it back after the commit.

Two ways to change an order (``mode``):

* ``"stateful"``: ``SalesorderChange`` then ``TransactionCommit(Wait='X')`` of the
  stateful service ``Z_BAPI_SALESORDER_CHANGE``, in the *same* HTTP session
  (the client's one ``requests.Session`` returns the ``sap-contextid`` /
  ``SAP_SESSIONID_…`` cookies).  Any failure after the change: ``TransactionRollback``
  in that session, and the session is dropped if even that fails or the outcome
  is unknown (the ABAP session then ends on its timeout, discarding the change), so a
  stray pending change is never committed by a later write.
* ``"wrapper"``: one call of ``ZCG_SALESORDER_SET_DLV_BLOCK`` (change + commit inside SAP).

SAP has no standard place in this adapter for risk flags and ageing alerts:
``set_risk_flag``, ``create_alert`` and ``close_alert`` are acknowledged as
"not supported by the SAP adapter (skipped)" so they do not become dead letters.

Reading an order needs its customer and sales organization (``BAPI_SALESORDER_GETLIST``
has no order-number selection); ``locate(order_erp_id) -> (customer, sales_org)``
gives them — :func:`store_locator` takes them from the orders the read side stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from connector import crashpoints
from connector.errors import AmbiguousWrite, FatalError, SourceError
from connector.logs import get_logger

from .client import CHANGE_SERVICE, SapClient
from .errors import CustomerError
from .mapping import alpha

log = get_logger("creditguard.sap")

Mode = Literal["stateful", "wrapper"]
Locate = Callable[[str], "tuple[str, str] | None"]
UNSUPPORTED = ("set_risk_flag", "create_alert", "close_alert")
NOT_FOUND = object()


def store_locator(store: Any, source: str, sales_organization: str | Mapping[str, str]) -> Locate:
    """``locate`` from the orders the read side stored: (customer, sales organization) of an order.

    ``sales_organization`` as configured for the source: one org, or ``{sales_org: company_code}``
    (the order's ``company_id`` is the company code its org is mapped to).
    """

    def locate(order: str) -> tuple[str, str] | None:
        for so in store.find_orders(order.lstrip("0") or order, source):
            if so.erp_id != order:
                continue
            if isinstance(sales_organization, str):
                return so.customer_id, sales_organization
            orgs = [org for org, cc in sales_organization.items() if cc == so.company_id]
            if orgs:
                return so.customer_id, orgs[0]
        return None

    return locate


class SapWriter:
    def __init__(self, client: SapClient, *, delivery_block: str = "01", mode: Mode = "stateful",
                 locate: Locate | None = None, letters_dir: str | None = None) -> None:
        if mode not in ("stateful", "wrapper"):
            raise ValueError(f"mode must be 'stateful' or 'wrapper', not {mode!r}")
        if not delivery_block or len(delivery_block) > 2:
            raise ValueError(f"delivery_block must be a 1-2 character code, not {delivery_block!r}")
        self.client = crashpoints.after_calls(client, ("set_delivery_block", "salesorder_change",
                                                       "transaction_commit", "transaction_rollback"))
        self.delivery_block = delivery_block
        self.mode = mode
        self.locate = locate
        self.letters_dir = letters_dir

    @property
    def source(self) -> str:
        return self.client.source

    # -------------------------------------------------------------------- apply

    def apply(self, entry: Any) -> str:
        if entry.kind == "place_hold":
            return self._place(alpha(entry.target_id))
        if entry.kind == "release_hold":
            return self._release(alpha(entry.target_id))
        if entry.kind == "send_dunning":
            from .letters import write_letter

            return write_letter(self.source, self.letters_dir, entry)
        if entry.kind in UNSUPPORTED:
            log.info("sap.write_skipped", source=self.source, kind=entry.kind, key=entry.key)
            return "not supported by the SAP adapter (skipped)"
        raise FatalError(self.source, f"unknown outbox entry kind {entry.kind!r}")

    def _place(self, order: str) -> str:
        current = self.current_block(order)
        if current is NOT_FOUND:
            raise FatalError(self.source, f"sales order {order} not found (GETLIST of its customer)")
        if current == self.delivery_block:
            return "already applied"
        if current:
            return f"order already blocked by {current}"  # a person's block: the order is stopped anyway
        self._write(order, self.delivery_block)
        after = self.current_block(order)
        if after != self.delivery_block:
            raise AmbiguousWrite(self.source, f"sales order {order}: delivery block {self.delivery_block} "
                                              f"not found after the commit (read {after or 'none'!s}); will re-check")
        return f"delivery block {self.delivery_block} set"

    def _release(self, order: str) -> str:
        current = self.current_block(order)
        if current is NOT_FOUND:
            return "order not found in SAP, nothing to release"
        if not current:
            return "already released"
        if current != self.delivery_block:
            return f"blocked by someone else ({current}), left as is"
        self._write(order, "")
        after = self.current_block(order)
        if after == self.delivery_block:
            raise AmbiguousWrite(self.source, f"sales order {order}: delivery block {self.delivery_block} still "
                                              "set after the commit; will re-check")
        return f"delivery block {self.delivery_block} removed"

    # --------------------------------------------------------------------- read

    def current_block(self, order: str) -> Any:
        """The order's header delivery block ('' = none), or ``NOT_FOUND``."""
        where = self.locate(order) if self.locate is not None else None
        if where is None:
            raise FatalError(self.source, f"sales order {order}: customer and sales organization unknown "
                                          "(not in the store yet, or no locate configured)")
        customer, sales_org = where
        try:
            found = self.client.sales_orders(alpha(customer), sales_org)
        except CustomerError as exc:  # a BadRecord for the read side; here the write cannot go on
            raise FatalError(self.source, f"sales order {order}: customer {customer} unknown to SAP "
                                          f"({exc.msg_id} {exc.number})") from None
        for row in found:
            if alpha((row.get("SdDoc") or "").strip()) == order:
                return (row.get("DlvBlock") or "").strip()
        return NOT_FOUND

    # -------------------------------------------------------------------- write

    def _write(self, order: str, block: str) -> None:
        if self.mode == "wrapper":
            self.client.set_delivery_block(order, block)
            return
        try:
            self.client.salesorder_change(order, block)
        except AmbiguousWrite:
            self.client.drop_session()  # the change may be pending there: never commit it by accident
            raise
        except SourceError:
            self._rollback(order)
            raise
        if not self.client.has_session(CHANGE_SERVICE):
            self._rollback(order)
            raise FatalError(self.source, f"{CHANGE_SERVICE} set no session cookie (sap-contextid): the service "
                                          "is not stateful, a commit would commit nothing — enable session "
                                          "handling in SOAMANAGER or use change_mode = wrapper")
        try:
            self.client.transaction_commit()
        except AmbiguousWrite:
            self.client.drop_session()
            raise
        except SourceError:
            self._rollback(order)
            raise

    def _rollback(self, order: str) -> None:
        try:
            self.client.transaction_rollback()
        except SourceError as exc:
            log.warning("sap.rollback_failed", source=self.source, order=order, error=str(exc))
            self.client.drop_session()


__all__ = ["SapWriter", "store_locator"]
