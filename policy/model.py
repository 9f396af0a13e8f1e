"""The credit policy as frozen objects: what a validated policy file turns into.

Amounts are ``Decimal`` in the policy's ``base_currency`` unless an entry names
its own currency.  Grades run 1 (best) … 10 (default), as insurers grade buyers.
Customers are named by their reference in the ERP (``ref``, e.g. ``C00042``),
falling back to ``source:erp_id`` (``odoo:42``) when a customer has no reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Mapping

from .dunning_model import CaseSettings, DunningSettings


class LimitSource(StrEnum):
    OVERRIDE = "override"  # a manual limit with an expiry date (temporary increase)
    INSURER = "insurer"  # the insurer's limit decision plus the policy's discretionary limit
    ERP = "erp"  # the ERP's own credit-limit field
    GRADE = "grade"  # the policy's limit for the customer's risk grade


class Conversion(StrEnum):
    DOCUMENT_DATE = "document_date"  # the ERP's rate on the document's date
    TODAY = "today"  # the ERP's latest rate on the evaluation day


class Grouping(StrEnum):
    COMMERCIAL_ENTITY = "commercial_entity"
    CUSTOM = "custom"


class InsurerStatus(StrEnum):
    APPROVED = "approved"
    REDUCED = "reduced"
    WITHDRAWN = "withdrawn"


class Profile(StrEnum):
    STANDARD = "standard"
    MANUFACTURING = "manufacturing"  # tiered limits for large single orders
    WHOLESALE = "wholesale"  # automatic approval of most orders, tight overdue rules
    CONSTRUCTION = "construction"  # exposure counted per project, with a limit per project


def _frozen_map(value: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class ExposureSettings:
    open_invoices: bool = True
    credit_notes: bool = True  # open credit notes (and unapplied payments) are netted
    draft_invoices: bool = False
    uninvoiced_orders: bool = True  # confirmed orders, the part not yet invoiced
    quotations: bool = False  # draft / sent orders other than the one being checked
    current_order: bool = True
    conversion: Conversion = Conversion.DOCUMENT_DATE


@dataclass(frozen=True, slots=True)
class GroupingSettings:
    key: Grouping = Grouping.COMMERCIAL_ENTITY
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen_map)  # group name → customer refs


@dataclass(frozen=True, slots=True)
class InsurerLimit:
    customer: str
    insurer: str
    amount: Decimal
    currency: str
    decided: date
    expires: date | None = None
    status: InsurerStatus = InsurerStatus.APPROVED

    def in_force(self, on: date) -> bool:
        return self.decided <= on and (self.expires is None or on <= self.expires)


@dataclass(frozen=True, slots=True)
class InsurerTerms:
    """The deadlines of one insurer's credit-insurance policy, in calendar days.

    Each period begins on the due date of the buyer's oldest unpaid invoice.
    """

    overdue_notification_days: int  # the overdue account must be notified to the insurer by then
    max_extension_days: int | None = None  # maximum extension period (MEP): then cover for new deliveries stops
    collection_days: int | None = None  # collections transferred at the latest this long after the MEP expired
    warn_days: int = 7  # the credit controller is alerted this many days before a deadline

    def notify_by(self, oldest_due: date) -> date:
        """The last day to notify the insurer of the overdue account."""
        return oldest_due + timedelta(days=self.overdue_notification_days)

    def cover_stops(self, oldest_due: date) -> date | None:
        """The day the maximum extension period expires: deliveries after it are not covered."""
        if self.max_extension_days is None:
            return None
        return oldest_due + timedelta(days=self.max_extension_days)

    def collection_by(self, oldest_due: date) -> date | None:
        """The last day to transfer the account to the insurer for collection."""
        stops = self.cover_stops(oldest_due)
        if stops is None or self.collection_days is None:
            return None
        return stops + timedelta(days=self.collection_days)


@dataclass(frozen=True, slots=True)
class LimitOverride:
    customer: str
    amount: Decimal
    currency: str
    expires: date  # last day the override applies
    reason: str
    approved_by: str
    starts: date | None = None

    def in_force(self, on: date) -> bool:
        return (self.starts is None or self.starts <= on) and on <= self.expires


@dataclass(frozen=True, slots=True)
class LimitSettings:
    precedence: tuple[LimitSource, ...] = (
        LimitSource.OVERRIDE,
        LimitSource.INSURER,
        LimitSource.ERP,
        LimitSource.GRADE,
    )
    grades: Mapping[int, Decimal] = field(default_factory=_frozen_map)  # grade → limit
    discretionary: Decimal = Decimal(0)  # added to an insurer limit in force
    insurer: tuple[InsurerLimit, ...] = ()
    overrides: tuple[LimitOverride, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerFile:
    """What finance records about one customer in the policy."""

    grade: int | None = None
    segment: str | None = None
    lang: str | None = None  # the language of letters and reminders to the customer (e.g. "fr"; default English)


DEFAULT_PAYMENT_MIN_ITEMS = 3  # fewer settled instalments than this say too little about how a customer pays


@dataclass(frozen=True, slots=True)
class PaymentBehaviourStep:
    """``[[payment_behaviour]]``: a grade adjustment for customers who pay this late (connector.payment_grade).

    A step matches a credit group whose instalments settled in the payment window were paid
    ``average_days_late`` days late or more on average (amount-weighted), ``share_paid_late`` or more of their
    amount late (when given) and number ``min_items`` or more.  Of the steps that match, the one with the highest
    ``average_days_late`` applies: its ``adjust`` is added to the grade (positive: worse), clamped to 1 … 10.
    """

    average_days_late: Decimal
    adjust: int  # -9 … 9; negative: better (good payers)
    share_paid_late: Decimal | None = None  # 0 … 1
    min_items: int = DEFAULT_PAYMENT_MIN_ITEMS
    where: str = ""  # "payment_behaviour.N": how reasons name it


@dataclass(frozen=True, slots=True)
class OverLimitRule:
    enabled: bool = True
    tolerance_percent: Decimal = Decimal(0)
    tolerance_amount: Decimal = Decimal(0)  # the larger of the two tolerances applies


@dataclass(frozen=True, slots=True)
class OverdueRule:
    enabled: bool = True
    days: int = 30  # invoices more than `days` past due …
    amount: Decimal = Decimal(0)  # … for more than `amount` in total


@dataclass(frozen=True, slots=True)
class GradeRule:
    enabled: bool = True
    hold_at_or_worse: int = 9


@dataclass(frozen=True, slots=True)
class SwitchRule:
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Rules:
    over_limit: OverLimitRule = OverLimitRule()
    overdue: OverdueRule = OverdueRule()
    grade: GradeRule = GradeRule()
    no_limit: SwitchRule = SwitchRule()
    cover_withdrawn: SwitchRule = SwitchRule()
    insurer_cover: SwitchRule = SwitchRule()  # the maximum extension period of the oldest invoice expired
    erp_blocked: SwitchRule = SwitchRule()  # the ERP's credit management blocked the customer


@dataclass(frozen=True, slots=True)
class Exemptions:
    customers: frozenset[str] = frozenset()
    auto_approve_below: Decimal | None = None  # orders below this amount go ahead
    excluded_order_types: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ApprovalTier:
    role: str
    up_to: Decimal | None  # None: no upper bound (the last tier)


@dataclass(frozen=True, slots=True)
class Segment:
    """Rules that replace the defaults for the customers of one segment."""

    profile: Profile = Profile.STANDARD
    auto_approve_below: Decimal | None = None
    overdue_days: int | None = None
    overdue_amount: Decimal | None = None
    large_order_threshold: Decimal | None = None  # manufacturing: a single order above this …
    large_order_tier: str | None = None  # … needs at least this approval tier
    project_limit: Decimal | None = None  # construction: limit per project


class AlertAction(StrEnum):
    ACTIVITY = "activity"  # a to-do on the invoice for the credit controller
    MESSAGE = "message"  # a note in the invoice's chatter
    BOTH = "both"


TODO_ACTIVITY = "mail.mail_activity_data_todo"  # the external id of the ERP's to-do activity type
DEFAULT_ALERT_SUMMARY = "Invoice {invoice} of {customer} is {days} days overdue ({amount} {currency} open)"


@dataclass(frozen=True, slots=True)
class AgeingAlert:
    """What happens when an open invoice is ``days`` past its due date (once per invoice)."""

    days: int
    action: AlertAction = AlertAction.ACTIVITY
    summary: str = DEFAULT_ALERT_SUMMARY
    activity_type: str = TODO_ACTIVITY  # the activity type's external id
    deadline_days: int = 0  # the activity is due this many days after the alert
    user_id: int | None = None  # assignee; default: the source's credit controller


DEFAULT_AGEING_BUCKETS = (0, 30, 60, 90, 120)  # not due, 1–30, 31–60, 61–90, 91–120, over 120
MAX_AGEING_BUCKETS = 12  # boundaries at most: 13 columns still fit a screen and a printed page


@dataclass(frozen=True, slots=True)
class AgeingSettings:
    """``[ageing]``: the columns of the ageing report (``creditguard ageing``).

    ``buckets`` are the upper bounds, in days past due, of each column: ``(0, 30, 60)`` gives not due
    (0 days or less), 1–30, 31–60 and over 60.  Strictly increasing, starting at 0.
    """

    buckets: tuple[int, ...] = DEFAULT_AGEING_BUCKETS


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """A test case shipped in the policy file: facts in, the expected decision out."""

    name: str
    customer: str
    exposure: Decimal  # total exposure including the order, base currency
    order: Decimal  # the order's amount, base currency
    expect: str  # "approve" | "hold"
    as_of: date
    overdue: Decimal = Decimal(0)
    oldest_due: date | None = None  # due date of the customer's oldest unpaid invoice
    grade: int | None = None  # None: the customer's file decides
    segment: str | None = None
    erp_limit: Decimal | None = None
    risk_category: str | None = None  # the ERP's risk category (grade by [risk_categories])
    erp_blocked: bool = False  # blocked by the ERP's credit management
    reasons: tuple[str, ...] | None = None  # exact reason codes, when given
    release_tier: str | None = None
    rates: Mapping[str, Decimal] = field(default_factory=_frozen_map)  # base-currency units per unit
    average_days_late: Decimal | None = None  # how the customer pays, for [[payment_behaviour]] (None: unknown)
    share_paid_late: Decimal | None = None
    paid_items: int | None = None  # None: enough for every step's min_items
    where: str = ""  # "LINE:COLUMN" of the case in the file


@dataclass(frozen=True, slots=True)
class Policy:
    version: int
    name: str
    base_currency: str
    exposure: ExposureSettings = ExposureSettings()
    grouping: GroupingSettings = GroupingSettings()
    limits: LimitSettings = LimitSettings()
    customers: Mapping[str, CustomerFile] = field(default_factory=_frozen_map)
    risk_categories: Mapping[str, int] = field(default_factory=_frozen_map)  # ERP risk category → grade
    rules: Rules = Rules()
    exemptions: Exemptions = Exemptions()
    approval_tiers: tuple[ApprovalTier, ...] = ()
    segments: Mapping[str, Segment] = field(default_factory=_frozen_map)
    tests: tuple[PolicyCase, ...] = ()
    alerts: tuple[AgeingAlert, ...] = ()  # ageing thresholds, ascending
    insurers: Mapping[str, InsurerTerms] = field(default_factory=_frozen_map)  # insurer name → policy terms
    ageing: AgeingSettings = AgeingSettings()  # the ageing report's columns
    dunning: DunningSettings = DunningSettings()  # [dunning]: levels and send mode
    cases: CaseSettings = CaseSettings()  # [cases]: collection cases (disputed amounts)
    payment_behaviour: tuple[PaymentBehaviourStep, ...] = ()  # grade adjustments, ascending average_days_late
    content_hash: str = ""  # sha256 of the file's bytes
    path: str | None = None
