# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""Credit holds on sales orders.

The CreditGuard daemon writes the hold fields over the external API; this module
blocks the confirmation of held orders, lets a Credit Controller release them and,
when configured, asks the daemon in real time before an order is confirmed.
"""

import logging

import requests

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

_logger = logging.getLogger(__name__)

CONTROLLER_GROUP = "credit_guard.group_credit_controller"

PARAM_URL = "credit_guard.check_url"
PARAM_TOKEN = "credit_guard.check_token"
PARAM_TIMEOUT = "credit_guard.check_timeout"
PARAM_FAIL_MODE = "credit_guard.fail_mode"
PARAM_SOURCE = "credit_guard.source"

DEFAULT_TIMEOUT = 3.0
MAX_TIMEOUT = 60.0
DECISIONS = ("approve", "hold")


def parse_timeout(value):
    """The check timeout in seconds from the system parameter (default 3 s)."""
    try:
        timeout = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    if not 0 < timeout <= MAX_TIMEOUT:
        return DEFAULT_TIMEOUT
    return timeout


def parse_fail_mode(value):
    """``open`` (confirm when the daemon gives no answer) or ``closed`` (refuse)."""
    mode = (value or "open").strip().lower()
    if mode == "open":
        return "open"
    if mode not in ("closed", "close"):
        _logger.warning("credit_guard.fail_mode %r is neither 'open' nor 'closed': failing closed", value)
    return "closed"


def reasons_inline(reasons):
    """The reasons (one per line) on one line: ``"first; second"``, without final periods."""
    lines = (line.strip().rstrip(".").strip() for line in (reasons or "").splitlines())
    return "; ".join(line for line in lines if line)


def reasons_and_codes(answer):
    """The reasons (one per line) and comma-separated codes of a daemon answer.

    ``reasons`` is what ``creditguard check --json`` prints (a list of
    ``{"code", "message"}``); plain strings, a single string and a separate
    ``codes`` list or string are accepted too.
    """
    raw = answer.get("reasons") or []
    if isinstance(raw, (str, dict)):
        raw = [raw]
    messages, codes = [], []
    for reason in raw:
        if isinstance(reason, dict):
            code = str(reason.get("code") or "").strip()
            message = str(reason.get("message") or code).strip()
        else:
            code, message = "", str(reason).strip()
        if message:
            messages.append(message)
        if code and code not in codes:
            codes.append(code)
    extra = answer.get("codes") or []
    if isinstance(extra, str):
        extra = extra.split(",")
    for code in extra:
        code = str(code).strip()
        if code and code not in codes:
            codes.append(code)
    return "\n".join(messages), ",".join(codes)


class SaleOrder(models.Model):
    _inherit = "sale.order"

    credit_hold = fields.Boolean(
        string="Credit Hold",
        readonly=True,
        tracking=True,
        copy=False,
        index=True,
        help="The order is on credit hold: it cannot be confirmed until a Credit Controller releases it.",
    )
    credit_hold_reasons = fields.Text(
        string="Credit Hold Reasons",
        readonly=True,
        copy=False,
        help="Why CreditGuard put the order on hold, one reason per line.",
    )
    credit_hold_codes = fields.Char(
        string="Credit Hold Codes",
        readonly=True,
        copy=False,
        help="The reason codes of the hold, comma-separated (over_limit, overdue, grade, no_limit, ...).",
    )
    credit_hold_since = fields.Datetime(string="On Credit Hold Since", readonly=True, copy=False)
    credit_release_tier = fields.Char(
        string="Release Tier",
        readonly=True,
        copy=False,
        help="The approval tier of the credit policy that may release the hold.",
    )
    credit_hold_key = fields.Char(
        string="Credit Hold Key",
        readonly=True,
        copy=False,
        help="CreditGuard's idempotency key (revision) of the hold.",
    )
    credit_released_by = fields.Many2one(
        "res.users", string="Credit Hold Released By", readonly=True, copy=False
    )
    credit_released_at = fields.Datetime(string="Credit Hold Released On", readonly=True, copy=False)
    credit_released_amount = fields.Monetary(
        string="Released Amount",
        currency_field="currency_id",
        readonly=True,
        copy=False,
        help="The order total when the hold was released: the release covers the order "
        "as long as its total does not grow beyond this amount.",
    )
    credit_released_tier = fields.Char(
        string="Released At Tier",
        readonly=True,
        copy=False,
        help="The release tier (credit.guard.tier code) of the user who released the hold.",
    )
    credit_release_reason = fields.Text(
        string="Release Reason",
        readonly=True,
        copy=False,
        help="Why the hold was released, as given by the user who released it.",
    )

    # ------------------------------------------------------------------ confirm

    def action_confirm(self):
        held = self.filtered("credit_hold")
        if held:
            raise UserError(held._credit_hold_error())
        new_holds = self._credit_guard_check()
        if new_holds:
            raise UserError(self._credit_hold_error(new_holds))
        return super().action_confirm()

    def _credit_hold_error(self, holds=None):
        """The message that refuses the confirmation of held orders.

        ``holds`` is a list of ``(order, values)`` for holds just decided (the
        record may not show them yet); by default the orders of ``self``.
        """
        if holds is None:
            holds = [(order, {}) for order in self]
        lines = []
        for order, vals in holds:
            reasons = vals.get("credit_hold_reasons", order.credit_hold_reasons)
            codes = vals.get("credit_hold_codes", order.credit_hold_codes)
            tier = vals.get("credit_release_tier", order.credit_release_tier)
            reasons = reasons_inline(reasons) or (codes or "").replace(",", ", ") or _("no reason given")
            if tier:
                lines.append(_(
                    "Sales order %(order)s is on credit hold: %(reasons)s. A user in the group "
                    "Credit Controller (release tier: %(tier)s) must release it first.",
                    order=order.name, reasons=reasons, tier=tier,
                ))
            else:
                lines.append(_(
                    "Sales order %(order)s is on credit hold: %(reasons)s. A user in the group "
                    "Credit Controller must release it first.",
                    order=order.name, reasons=reasons,
                ))
        return "\n".join(lines)

    # ------------------------------------------------------------ real-time check

    def _credit_guard_check_config(self):
        """The real-time check's settings, or None when the check is not configured."""
        get_param = self.env["ir.config_parameter"].sudo().get_param
        url = (get_param(PARAM_URL) or "").strip()
        token = (get_param(PARAM_TOKEN) or "").strip()
        if not url or not token:
            return None
        return {
            "url": url,
            "token": token,
            "timeout": parse_timeout(get_param(PARAM_TIMEOUT)),
            "fail_mode": parse_fail_mode(get_param(PARAM_FAIL_MODE)),
            "source": (get_param(PARAM_SOURCE) or "").strip() or "odoo",
        }

    def _credit_guard_check(self):
        """Ask the daemon about each order about to be confirmed.

        Returns ``[(order, hold values)]`` for the orders it holds (already put on
        hold).  When the daemon gives no usable answer, fail open (log and let the
        order through) or closed (UserError), as ``credit_guard.fail_mode`` says.
        """
        config = self._credit_guard_check_config()
        if not config:
            return []
        holds = []
        for order in self:
            if order.state not in ("draft", "sent") or order._credit_release_covers():
                continue
            answer, problem = order._credit_guard_ask(config)
            if problem:
                kind, detail = problem
                if config["fail_mode"] == "closed":
                    _logger.error(
                        "CreditGuard check of sales order %s failed (%s): confirmation refused "
                        "(credit_guard.fail_mode = closed)", order.name, detail)
                    raise UserError(
                        _(
                            "CreditGuard could not be reached to check sales order %(order)s (%(error)s). "
                            "The credit policy does not allow confirming an order without its answer: "
                            "try again in a moment, or ask your administrator.",
                            order=order.name,
                            error=order._credit_guard_problem_text(kind, detail),
                        )
                    )
                _logger.warning(
                    "CreditGuard check of sales order %s failed (%s): confirming without it "
                    "(credit_guard.fail_mode = open)", order.name, detail)
                continue
            if answer["decision"] == "hold":
                holds.append((order, order._credit_guard_put_on_hold(answer)))
        return holds

    def _credit_guard_ask(self, config):
        """POST the order to the daemon: ``(answer, None)`` or ``(None, (kind, detail))``."""
        self.ensure_one()
        try:
            response = requests.post(
                config["url"],
                json=self._credit_guard_facts(config["source"]),
                headers={"Authorization": "Bearer %s" % config["token"], "Accept": "application/json"},
                timeout=config["timeout"],
            )
        except requests.Timeout:
            return None, ("timeout", "no answer within %s s" % config["timeout"])
        except requests.RequestException as exc:
            return None, ("unreachable", "connection failed: %s" % type(exc).__name__)
        status = response.status_code
        if status >= 500:
            return None, ("unavailable", "HTTP %d" % status)
        if status in (401, 403):
            _logger.error("CreditGuard refused the check token (HTTP %d): check credit_guard.check_token", status)
        if not 200 <= status < 300:
            return None, ("refused", "HTTP %d" % status)
        try:
            answer = response.json()
        except ValueError:
            return None, ("invalid", "the answer is not JSON")
        if not isinstance(answer, dict) or answer.get("decision") not in DECISIONS:
            return None, ("invalid", "the answer has no decision 'approve' or 'hold'")
        return answer, None

    def _credit_guard_facts(self, source):
        """The order as it is now, for a decision whether or not CreditGuard has synced it (POST /v1/check):
        the order's figures, its customer and commercial entity, and the entity's credit limit in the
        order's company (Odoo's limit is per company)."""
        self.ensure_one()
        partner = self.partner_id
        commercial = partner.commercial_partner_id or partner
        company = self.company_id
        currency = self.currency_id
        places = currency.decimal_places
        limit = commercial.with_company(company).credit_limit if company else commercial.credit_limit
        customer = {
            "erp_id": str(partner.id),
            "name": partner.display_name or partner.name or "",
            "commercial_erp_id": str(commercial.id),
            "commercial_name": commercial.display_name or commercial.name or "",
        }
        if commercial.ref:
            customer["commercial_ref"] = commercial.ref
        if limit:
            customer["credit_limit"] = "%.*f" % (company.currency_id.decimal_places, limit)
            customer["credit_limit_currency"] = company.currency_id.name
        order = {
            "erp_id": str(self.id),
            "reference": self.name,
            "state": self.state,
            "currency": currency.name,
            "amount_total": "%.*f" % (places, self.amount_total),
            "amount_uninvoiced": "%.*f" % (places, max(self.amount_total - self.amount_invoiced, 0.0)),
        }
        if company:
            order["company_id"] = str(company.id)
        if self.date_order:
            order["date"] = fields.Date.to_string(self.date_order)
        order_type = self._fields.get("type_id") and self.type_id  # OCA sale_order_type, when installed
        if order_type:
            order["type"] = order_type.name
        return {"source": source, "event": "confirm", "order": order, "customer": customer}

    def _credit_guard_problem_text(self, kind, detail):
        if kind == "timeout":
            return _("no answer in time")
        if kind == "unreachable":
            return _("connection failed")
        if kind == "invalid":
            return _("invalid answer")
        return detail

    def _credit_guard_put_on_hold(self, answer):
        """Record the hold the daemon decided; returns the values written."""
        self.ensure_one()
        reasons, codes = reasons_and_codes(answer)
        vals = {
            "credit_hold": True,
            "credit_hold_reasons": reasons or False,
            "credit_hold_codes": codes or False,
            "credit_release_tier": answer.get("release_tier") or answer.get("tier") or False,
            "credit_hold_since": fields.Datetime.now(),
        }
        key = answer.get("hold_key") or answer.get("key")
        if key:
            vals["credit_hold_key"] = str(key)
        if not self._credit_guard_commit_hold(vals):
            self.write(vals)
        return vals

    def _credit_guard_commit_hold(self, vals):
        """Write the hold in a transaction of its own and commit it.

        The UserError that refuses the confirmation rolls the current transaction
        back, which would lose a hold written in it.  The row is locked with
        NOWAIT: when the current transaction already holds it (or the order is not
        committed yet) this gives up at once and returns False, and the caller
        writes in the current transaction (the daemon records the hold anyway).
        """
        self.ensure_one()
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("SELECT id FROM sale_order WHERE id = %s FOR UPDATE NOWAIT", [self.id])
                if not cr.fetchone():
                    return False
                self.with_env(self.env(cr=cr)).write(vals)
            return True
        except Exception as exc:  # row locked (LockNotAvailable), serialization failure, ...
            _logger.warning("Could not commit the credit hold of sales order %s on its own (%s)", self.name, exc)
            return False

    def _credit_release_covers(self):
        """Whether a Credit Controller's release covers the order as it is now."""
        self.ensure_one()
        if not self.credit_released_at:
            return False
        if self.credit_hold_since and self.credit_hold_since > self.credit_released_at:
            return False
        return self.currency_id.compare_amounts(self.amount_total, self.credit_released_amount) <= 0

    # -------------------------------------------------------------------- release

    def action_open_credit_release_wizard(self):
        """The release buttons (order form, Credit holds queue): a wizard asks for the reason."""
        if not self.env.user.has_group(CONTROLLER_GROUP):
            raise AccessError(_("Only a user in the group Credit Controller can release a credit hold."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Release credit holds"),
            "res_model": "credit.guard.release.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_ids": [(6, 0, self.filtered("credit_hold").ids)]},
        }

    def action_release_credit_hold(self, reason=None):
        """Release the holds, for the reason given: the caller's tier must reach each order's tier."""
        if not self.env.user.has_group(CONTROLLER_GROUP):
            raise AccessError(_("Only a user in the group Credit Controller can release a credit hold."))
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Give the reason for releasing the credit hold."))
        held = self.filtered("credit_hold")
        tiers = self.env["credit.guard.tier"]
        tiers._credit_guard_check_release(held, self.env.user)
        _rank, tier = tiers._credit_guard_user_tier(self.env.user)
        now = fields.Datetime.now()
        for order in held:
            reasons = reasons_inline(order.credit_hold_reasons) or (order.credit_hold_codes or "").replace(",", ", ")
            order.write({
                "credit_hold": False,
                "credit_released_by": self.env.user.id,
                "credit_released_at": now,
                "credit_released_amount": order.amount_total,
                "credit_released_tier": tier.code if tier else False,
                "credit_release_reason": reason,
            })
            order.message_post(
                body=_(
                    "Credit hold released by %(user)s as %(tier)s: %(reason)s (reasons of the hold: %(reasons)s).",
                    user=self.env.user.name,
                    tier=tier.name if tier else _("Credit Controller"),
                    reason=reason,
                    reasons=reasons or _("no reason given"),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return True

    def write(self, vals):
        releasing = "credit_hold" in vals and not vals["credit_hold"]
        if (
            (releasing or "credit_release_tier" in vals)
            and not self.env.su
            and any(order.credit_hold for order in self)
        ):
            if releasing and not self.env.user.has_group(CONTROLLER_GROUP):
                raise AccessError(_("Only a user in the group Credit Controller can release a credit hold."))
            # clearing a hold, or changing its tier, needs the tier the hold has now
            self.env["credit.guard.tier"]._credit_guard_check_release(self.filtered("credit_hold"), self.env.user)
        return super().write(vals)
