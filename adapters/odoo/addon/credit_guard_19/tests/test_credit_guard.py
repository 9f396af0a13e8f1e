# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""Tests to run inside a real Odoo 19.0 server:

    odoo-bin -d <db> -i credit_guard --test-enable --test-tags /credit_guard --stop-after-init

(the repository runs these same tests on its stand-in ORM with the record rules of a real 19.0:
tests/addon/test_addon_own_tests.py).  The orders are created by the tests, so the hold that the
real-time check commits "on its own cursor" falls back to the test transaction (a new row is
invisible to another cursor) and nothing is committed.
"""

from ast import literal_eval
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
        cls.other_salesman = new_test_user(cls.env, login="cg_salesman2", groups="sales_team.group_sale_salesman")
        cls.controller = new_test_user(cls.env, login="cg_controller",
                                       groups="credit_guard.group_credit_tier_credit_manager")
        cls.sales_manager_tier = new_test_user(cls.env, login="cg_tier1",
                                               groups="credit_guard.group_credit_tier_sales_manager")
        cls.cfo = new_test_user(cls.env, login="cg_cfo", groups="credit_guard.group_credit_tier_cfo")
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

    def hold(self, order, tier="credit_manager"):
        order.write({
            "credit_hold": True,
            "credit_hold_reasons": "Exposure above the limit.\nInvoices overdue.",
            "credit_hold_codes": "over_limit,overdue",
            "credit_release_tier": tier,
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
        self.assertIn(self.env.ref("sales_team.group_sale_salesman_all_leads"), group.implied_ids)
        self.assertTrue(self.controller.has_group("sales_team.group_sale_salesman_all_leads"))
        self.assertTrue(self.controller.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(self.controller.has_group("sales_team.group_sale_manager"))
        self.assertFalse(self.salesman.has_group("credit_guard.group_credit_controller"))
        self.assertFalse(self.salesman.has_group("sales_team.group_sale_salesman_all_leads"))

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
        order = self.hold(self.order())  # of another salesperson
        self.assertNotEqual(order.user_id, self.controller)
        order.with_user(self.controller).action_release_credit_hold(reason="Customer paid.")
        self.assertFalse(order.credit_hold)
        self.assertEqual(order.credit_released_by, self.controller)
        self.assertTrue(order.credit_released_at)
        self.assertTrue(any("Credit hold released by" in (m.body or "") for m in order.message_ids))
        order.with_user(self.salesman).action_confirm()
        self.assertEqual(order.state, "sale")

    def test_release_needs_a_reason(self):
        order = self.hold(self.order())
        with self.assertRaisesRegex(UserError, "Give the reason for releasing the credit hold"):
            order.with_user(self.controller).action_release_credit_hold(reason="  ")
        self.assertTrue(order.credit_hold)

    def test_release_wizard_records_who_when_tier_and_reason(self):
        order = self.hold(self.order(), tier="sales_manager")
        action = order.with_user(self.cfo).action_open_credit_release_wizard()
        self.assertEqual((action["res_model"], action["target"]), ("credit.guard.release.wizard", "new"))
        wizard = self.env["credit.guard.release.wizard"].with_user(self.cfo).create({
            "order_ids": action["context"]["default_order_ids"], "reason": "Paid by wire, confirmed by the bank."})
        wizard.action_release()
        self.assertFalse(order.credit_hold)
        self.assertEqual(order.credit_released_by, self.cfo)
        self.assertEqual(order.credit_released_tier, "cfo")
        self.assertEqual(order.credit_release_reason, "Paid by wire, confirmed by the bank.")
        self.assertTrue(order.credit_released_at)
        self.assertEqual(order.credit_released_amount, order.amount_total)

    # -- tiers
    def test_tier_groups_are_ordered(self):
        tiers = self.env["credit.guard.tier"]._credit_guard_tiers()
        self.assertEqual([tier.code for tier in tiers][:3], ["sales_manager", "credit_manager", "cfo"])
        self.assertTrue(self.cfo.has_group("credit_guard.group_credit_tier_credit_manager"))
        self.assertTrue(self.cfo.has_group("credit_guard.group_credit_controller"))
        self.assertFalse(self.controller.has_group("credit_guard.group_credit_tier_cfo"))

    def test_tier_one_cannot_release_a_cfo_hold(self):
        order = self.hold(self.order(), tier="cfo")
        for user, tier in ((self.sales_manager_tier, "Sales Manager"), (self.controller, "Credit Manager")):
            with self.assertRaisesRegex(AccessError, r"Releasing %s needs the tier CFO; you are %s\." % (order.name, tier)):
                order.with_user(user).action_release_credit_hold(reason="Customer paid.")
            # nor by clearing the hold or lowering its tier directly
            with self.assertRaisesRegex(AccessError, "needs the tier CFO"):
                order.with_user(user).write({"credit_hold": False})
            with self.assertRaisesRegex(AccessError, "needs the tier CFO"):
                order.with_user(user).write({"credit_release_tier": "sales_manager"})
        self.assertTrue(order.credit_hold)
        self.assertEqual(order.credit_release_tier, "cfo")
        self.assertFalse(order.credit_released_by)
        order.with_user(self.cfo).action_release_credit_hold(reason="Approved by the CFO.")
        self.assertFalse(order.credit_hold)
        self.assertEqual(order.credit_released_tier, "cfo")

    def test_controller_opens_every_order_of_the_company(self):
        mine, other = self.order(), self.order(user_id=self.other_salesman.id)
        as_controller = self.env["sale.order"].with_user(self.controller)
        self.assertEqual(as_controller.search([("id", "in", (mine | other).ids)]), mine | other)
        self.assertEqual(other.with_user(self.controller).read(["name"])[0]["name"], other.name)
        self.assertEqual(other.partner_id.with_user(self.controller).read(["name"])[0]["name"], self.partner.name)

    def test_salesman_sees_only_own_orders(self):
        mine, other = self.order(), self.order(user_id=self.other_salesman.id)
        as_salesman = self.env["sale.order"].with_user(self.salesman)
        self.assertEqual(as_salesman.search([("id", "in", (mine | other).ids)]), mine)
        with self.assertRaisesRegex(AccessError, r"doesn't have 'read' access to:\n- Sales Order \(sale.order\)"):
            other.with_user(self.salesman).read(["name"])

    def test_controller_sees_no_order_of_another_company(self):
        company = self.env["res.company"].create({"name": "CreditGuard Other Company"})
        order = self.hold(self.order(company_id=company.id, user_id=False))
        as_controller = self.env["sale.order"].with_user(self.controller)
        self.assertFalse(as_controller.search([("id", "=", order.id)]))
        with self.assertRaises(AccessError):
            order.with_user(self.controller).action_release_credit_hold(reason="Customer paid.")
        self.assertTrue(order.credit_hold)

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
        sent = post.call_args.kwargs["json"]  # the order as it is now, for a decision before any sync
        self.assertEqual((sent["source"], sent["event"]), ("odoo", "confirm"))
        self.assertEqual({key: sent["order"][key] for key in ("erp_id", "reference", "state", "currency")},
                         {"erp_id": str(order.id), "reference": order.name, "state": "draft",
                          "currency": order.currency_id.name})
        self.assertEqual(sent["order"]["amount_total"], "%.2f" % order.amount_total)
        self.assertEqual((sent["customer"]["erp_id"], sent["customer"]["commercial_erp_id"]),
                         (str(self.partner.id), str(self.partner.id)))
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
        self.assertIn('name="action_open_credit_release_wizard"', views["form"]["arch"])
        self.assertIn("alert-danger", views["form"]["arch"])
        self.assertIn('name="credit_hold"', views[LIST_VIEW]["arch"])
        self.assertIn("credit_hold", views["search"]["arch"])
        salesman_form = self.env["sale.order"].with_user(self.salesman).get_views([(False, "form")])
        self.assertNotIn("action_open_credit_release_wizard", salesman_form["views"]["form"]["arch"])
        partner_form = self.env["res.partner"].with_user(self.salesman).get_views([(False, "form")])
        self.assertIn('name="credit_exposure"', partner_form["views"]["form"]["arch"])
        self.assertIn("decoration-danger", views[LIST_VIEW]["arch"])
        self.assertIn('role="alert"', views["form"]["arch"])

    # -- credit holds queue (Sales > Credit > Credit holds)
    def test_credit_holds_queue(self):
        held = self.hold(self.order()) | self.hold(self.order(user_id=self.other_salesman.id))
        free = self.order()
        action = self.env.ref("credit_guard.action_credit_holds")
        group = self.env.ref("credit_guard.group_credit_controller")
        self.assertIn(group, action["group_ids" if "group_ids" in action._fields else "groups_id"])
        as_controller = self.env["sale.order"].with_user(self.controller)
        domain = literal_eval(action.domain) + [("id", "in", (held | free).ids)]
        self.assertEqual(as_controller.search(domain), held, "every salesperson's held orders")
        menu = self.env.ref("credit_guard.menu_credit_holds")
        self.assertEqual(menu.action, action)
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.controller)._visible_menu_ids())
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.salesman)._visible_menu_ids())
        views = as_controller.get_views([(action.view_id.id, LIST_VIEW), (action.search_view_id.id, "search")])
        self.assertIn('name="action_open_credit_release_wizard"', views["views"][LIST_VIEW]["arch"])
        self.assertIn('name="group_customer"', views["views"]["search"]["arch"])
        # mass release from the list: the selected orders, the method's own check decides
        with self.assertRaises(AccessError):
            held.with_user(self.salesman).action_release_credit_hold()
        held.with_user(self.controller).action_release_credit_hold(reason="Customer paid.")
        self.assertFalse(any(held.mapped("credit_hold")))
        self.assertEqual(held.mapped("credit_released_by"), self.controller)
