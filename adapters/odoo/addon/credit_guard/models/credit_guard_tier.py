# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""Release tiers: who may release a credit hold.

The daemon writes on each held order the approval tier of the credit policy that may release it
(``sale.order.credit_release_tier``, the ``role`` of the policy's ``[[approval_tiers]]``).  A tier
record gives that code a name, a rank (``sequence``: higher releases lower) and the group whose
members hold the tier.  A hold whose tier no record knows can be released by the highest tier only.
"""

from odoo import _, fields, models
from odoo.exceptions import AccessError


class CreditGuardTier(models.Model):
    _name = "credit.guard.tier"
    _description = "Credit Release Tier"
    _order = "sequence, id"

    code = fields.Char(
        string="Code",
        required=True,
        help="The role of the credit policy's [[approval_tiers]] (sales_manager, credit_manager, cfo, ...).",
    )
    name = fields.Char(string="Name", required=True, translate=True)
    sequence = fields.Integer(
        string="Sequence",
        default=10,
        help="The rank of the tier: a tier releases the holds of its own and of every lower tier.",
    )
    group_id = fields.Many2one(
        "res.groups",
        string="Group",
        required=True,
        ondelete="restrict",
        help="The users of this group hold the tier.",
    )

    _sql_constraints = [
        ("code_unique", "unique(code)", "A release tier with this code already exists."),
    ]

    def _credit_guard_tiers(self):
        """Every tier, lowest first."""
        return sorted(self.sudo().search([]), key=lambda tier: (tier.sequence, tier.id))

    def _credit_guard_user_tier(self, user):
        """``(rank, tier)`` of the highest tier the user holds, ``(-1, None)`` for none."""
        groups = user.sudo().groups_id  # 17.0: the user's groups and the groups they imply
        found = (-1, None)
        for rank, tier in enumerate(self._credit_guard_tiers()):
            if tier.group_id in groups:
                found = (rank, tier)
        return found

    def _credit_guard_check_release(self, orders, user):
        """Raise AccessError unless the user's tier reaches the tier of each held order."""
        tiers = self._credit_guard_tiers()
        if not tiers:
            return
        user_rank, user_tier = self._credit_guard_user_tier(user)
        you_are = user_tier.name if user_tier else _("a Credit Controller without a release tier")
        for order in orders:
            code = order.credit_release_tier
            if not code or not order.credit_hold:
                continue
            needed = next(((rank, tier) for rank, tier in enumerate(tiers) if tier.code == code), None)
            if needed is None:
                if user_rank < len(tiers) - 1:
                    raise AccessError(_(
                        "Releasing %(order)s needs the tier %(tier)s: its release tier %(code)s is not a known "
                        "tier, so only the highest tier may release it; you are %(user_tier)s.",
                        order=order.name, tier=tiers[-1].name, code=code, user_tier=you_are,
                    ))
            elif user_rank < needed[0]:
                raise AccessError(_(
                    "Releasing %(order)s needs the tier %(tier)s; you are %(user_tier)s.",
                    order=order.name, tier=needed[1].name, user_tier=you_are,
                ))
