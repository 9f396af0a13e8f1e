# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""Tests to run inside a real Odoo 19.0 server:

    odoo-bin -d <db> -i credit_guard --test-enable --test-tags /credit_guard --stop-after-init

(the repository's own tests, tests/addon/, run the same logic on a stand-in ORM.)  The orders
are created by the tests, so the hold that the real-time check commits "on its own cursor" falls
back to the test transaction (a new row is invisible to another cursor) and nothing is committed.
"""

from unittest.mock import MagicMock, patch

import requests

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase, new_test_user

POST = "odoo.addons.credit_guard.models.sale_order.requests.post"
LIST_VIEW = "list"  # 17.0: "tree"


def answer(status=200, body=None):
    response = MagicMock(status_code=status)
    response.json.return_value = body if body is not None else {}
    return response


@tagged("post_install", "-at_install")
class TestCreditGuard(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(cls.env, login="cg_salesman", groups="sales_team.group_sale_salesman")
        cls.controller = new_test_user(cls.env, login="cg_controller",
                                       groups="credit_guard.group_credit_controller")
        cls.partner = cls.env["res.partner"].create({"name": "CreditGuard Customer"})
        cls.product = cls.env["product.product"].create({"name": "CreditGuard Product", "list_price": 100.0})
        cls.params = cls.env["ir.config_parameter"].sudo()

    def order(self, **vals):
        values = {
            "partner_id": self.partner.id,
            "user_id": self.salesman.id,
            "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 2})],
        }
        values.update(vals)
        return self.env["sale.order"].create(values)

    def hold(self, order):
        order.write({
            "credit_hold": True,
            "credit_hold_reasons": "Exposure above the limit.\nInvoices overdue.",
            "credit_hold_codes": "over_limit,overdue",
            "credit_release_tier": "credit_manager",
            "credit_hold_key": "test:1",
        })
        return order

    def configure(self, fail_mode="open"):
        self.params.set_param("credit_guard.check_url", "http://127.0.0.1:1/check")
        self.params.set_param("credit_guard.check_token", "token")
        self.params.set_param("credit_guard.fail_mode", fail_mode)

    # -- groups
    def test_controller_group(self):
        group = self.env.ref("credit_guard.group_credit_controller")
        self.assertIn(self.env.ref("sales_team.group_sale_salesman"), group.implied_ids)
        self.assertTrue(self.controller.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(self.salesman.has_group("credit_guard.group_credit_controller"))

    # -- confirm
    def test_held_order_is_not_confirmed(self):
        order = self.hold(self.order())
        with self.assertRaisesRegex(UserError, r"is on credit hold: Exposure above the limit; Invoices overdue\. "
                                               r".*\(release tier: credit_manager\)"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_order_not_held_is_confirmed(self):
        order = self.order()
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_copy_does_not_copy_the_hold(self):
        self.assertFalse(self.hold(self.order()).copy().credit_hold)

    # -- release
    def test_controller_releases(self):
        order = self.hold(self.order())
        order.with_user(self.controller).action_release_credit_hold()
        self.assertFalse(order.credit_hold)
        self.assertEqual(order.credit_released_by, self.controller)
        self.assertTrue(order.credit_released_at)
        self.assertTrue(any("Credit hold released by" in (m.body or "") for m in order.message_ids))
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_salesman_cannot_release(self):
        order = self.hold(self.order())
        with self.assertRaises(AccessError):
            order.with_user(self.salesman).action_release_credit_hold()
        with self.assertRaises(AccessError):
            order.with_user(self.salesman).write({"credit_hold": False})
        self.assertTrue(order.credit_hold)

    # -- real-time check
    def test_check_hold(self):
        self.configure()
        order = self.order()
        body = {"decision": "hold", "reasons": [{"code": "over_limit", "message": "Over the limit."}],
                "release_tier": "cfo", "hold_key": "k1"}
        refused = False
        with patch(POST, return_value=answer(body=body)) as post:
            try:
                order.with_user(self.salesman).action_confirm()
            except UserError as exc:
                refused = "(release tier: cfo)" in str(exc)
        self.assertTrue(refused)
        self.assertEqual(post.call_args.kwargs["json"], {"order": order.name, "source": "odoo"})
        self.assertEqual(post.call_args.kwargs["headers"]["Authorization"], "Bearer token")
        order.invalidate_recordset()
        self.assertTrue(order.credit_hold)
        self.assertEqual((order.credit_hold_codes, order.credit_hold_key), ("over_limit", "k1"))
        self.assertEqual(order.state, "draft")

    def test_check_approve(self):
        self.configure()
        order = self.order()
        with patch(POST, return_value=answer(body={"decision": "approve"})):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_check_unreachable_fail_open(self):
        self.configure("open")
        order = self.order()
        with patch(POST, side_effect=requests.ConnectionError("refused")), self.assertLogs(level="WARNING"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_check_5xx_fail_closed(self):
        self.configure("closed")
        order = self.order()
        with patch(POST, return_value=answer(status=503)), \
                self.assertRaisesRegex(UserError, "CreditGuard could not be reached"):
            order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "draft")

    # -- views
    def test_views(self):
        orders = self.env["sale.order"].with_user(self.controller)
        views = orders.get_views([(False, "form"), (False, LIST_VIEW), (False, "search")])["views"]
        self.assertIn('name="action_release_credit_hold"', views["form"]["arch"])
        self.assertIn("alert-danger", views["form"]["arch"])
        self.assertIn('name="credit_hold"', views[LIST_VIEW]["arch"])
        self.assertIn("credit_hold", views["search"]["arch"])
        salesman_form = self.env["sale.order"].with_user(self.salesman).get_views([(False, "form")])
        self.assertNotIn("action_release_credit_hold", salesman_form["views"]["form"]["arch"])
        partner_form = self.env["res.partner"].with_user(self.salesman).get_views([(False, "form")])
        self.assertIn('name="credit_exposure"', partner_form["views"]["form"]["arch"])
