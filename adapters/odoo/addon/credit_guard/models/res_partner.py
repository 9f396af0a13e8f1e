# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""The credit file of a customer as CreditGuard sees it (written by the daemon).

The amounts are in the partner's ``currency_id`` (from ``account``: the company currency).
"""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    credit_risk_grade = fields.Integer(
        string="Credit Risk Grade",
        readonly=True,
        help="The customer's risk grade: 1 = excellent ... 10 = default; 0 = not graded.",
    )
    credit_risk_flag = fields.Selection(
        [("ok", "OK"), ("watch", "Watch"), ("stop", "Stop")],
        string="Credit Risk",
        default="ok",
        readonly=True,
        tracking=True,
        help="OK: sell on credit as usual. Watch: check before selling more. Stop: no more credit.",
    )
    credit_exposure = fields.Monetary(
        string="Credit Exposure",
        currency_field="currency_id",
        readonly=True,
        help="Open receivables, minus credit notes, plus orders confirmed but not yet invoiced.",
    )
    credit_effective_limit = fields.Monetary(
        string="Effective Credit Limit",
        currency_field="currency_id",
        readonly=True,
        help="The limit CreditGuard applies (an override, the insurer's limit, the ERP's limit or the "
        "grade's); 0 when no limit applies.",
    )
    credit_headroom = fields.Monetary(
        string="Credit Headroom",
        currency_field="currency_id",
        readonly=True,
        help="Effective limit minus exposure (negative when over the limit).",
    )
    credit_evaluated_at = fields.Datetime(string="Credit Evaluated On", readonly=True)
