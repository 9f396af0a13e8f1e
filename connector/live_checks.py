"""The facts of an order as the ERP has it now, for a credit check between syncs.

The ERP sends them with every check (the Odoo addon at confirmation, a script through
``creditguard check --order-id ...``): the order may not be in the store yet, nor its customer.  The
ERP is the truth: an order the store knows with other figures is decided on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .domain import OrderState


@dataclass(frozen=True, slots=True)
class LiveOrder:
    source: str
    erp_id: str
    number: str
    state: OrderState
    currency: str
    amount_total: Decimal
    amount_uninvoiced: Decimal  # the part not covered by posted invoices yet
    company_id: str | None = None
    order_date: date | None = None
    order_type: str | None = None
    project: str | None = None


@dataclass(frozen=True, slots=True)
class LiveCustomer:
    erp_id: str  # the customer on the order (a contact, or the company itself)
    name: str
    commercial_erp_id: str  # its commercial entity: the credit group
    commercial_name: str
    commercial_ref: str | None = None
    credit_limit: Decimal | None = None  # the ERP's limit, for a customer the store has not seen yet
    credit_limit_currency: str | None = None
