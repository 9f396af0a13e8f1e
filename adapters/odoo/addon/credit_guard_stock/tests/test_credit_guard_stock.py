# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
"""Tests to run inside a real Odoo 17.0 server with sale_stock:

    odoo-bin -d <db> -i credit_guard_stock --test-enable --test-tags /credit_guard_stock --stop-after-init

(the repository runs these same tests on its stand-in ORM with the record rules of a real 17.0:
tests/addon/test_addon_own_tests.py).  The product is a consumable, so confirming the order reserves
its delivery at once and no stock has to be put on hand; ``skip_sms`` answers stock_sms's one-time
question before it is asked.
"""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase, new_test_user

BLOCKED = "A delivery of a sales order on credit hold cannot be validated until the hold is released."
PRODUCT = {"name": "CreditGuard Goods", "list_price": 100.0, "type": "consu"}  # 19.0: is_storable False


@tagged("post_install", "-at_install")
class TestCreditGuardStock(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(cls.env, login="cgs_salesman", groups="sales_team.group_sale_salesman")
        cls.other_salesman = new_test_user(cls.env, login="cgs_salesman2", groups="sales_team.group_sale_salesman")
        cls.controller = new_test_user(cls.env, login="cgs_controller",
                                       groups="credit_guard.group_credit_tier_credit_manager")
        cls.partner = cls.env["res.partner"].create({"name": "CreditGuard Stock Customer"})
        cls.product = cls.env["product.product"].create(PRODUCT)

    def confirmed(self, salesman=None):
        order = self.env["sale.order"].create({
            "partner_id": self.partner.id,
            "user_id": (salesman or self.salesman).id,
            "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 3})],
        })
        order.action_confirm()
        self.assertEqual(order.state, "sale")
        return order

    def delivery(self, order):
        pickings = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing")
        self.assertEqual(len(pickings), 1)
        for move in pickings.move_ids:  # what the "Validate" of a ready delivery takes: every quantity picked
            move.write({"quantity": move.product_uom_qty, "picked": True})
        return pickings

    def hold(self, order):
        order.write({
            "credit_hold": True,
            "credit_hold_reasons": "Exposure above the limit.",
            "credit_hold_codes": "over_limit",
            "credit_release_tier": "credit_manager",
            "credit_hold_key": "test:stock:1",
        })
        return order

    def validate(self, picking, user=None):
        picking = picking.with_user(user) if user else picking
        return picking.with_context(skip_sms=True).button_validate()

    def test_delivery_of_a_held_order_cannot_be_validated(self):
        order = self.confirmed()
        picking = self.delivery(order)
        self.hold(order)
        with self.assertRaisesRegex(UserError, BLOCKED) as refused:
            self.validate(picking, self.salesman)
        self.assertIn("%s is on credit hold: Exposure above the limit" % order.name, str(refused.exception))
        self.assertIn("(release tier: credit_manager)", str(refused.exception))
        self.assertNotEqual(picking.state, "done")

    def test_nobody_bypasses_the_hold(self):
        order = self.confirmed()
        picking = self.delivery(order)
        self.hold(order)
        for user in (self.env.ref("base.user_admin"), self.controller):
            with self.assertRaisesRegex(UserError, BLOCKED):
                self.validate(picking, user)
        with self.assertRaisesRegex(UserError, BLOCKED):  # the superuser neither
            self.validate(picking)
        self.assertNotEqual(picking.state, "done")

    def test_a_salesperson_who_cannot_read_the_order_gets_the_short_refusal(self):
        order = self.confirmed(salesman=self.other_salesman)
        picking = self.delivery(order)
        self.hold(order)
        with self.assertRaisesRegex(UserError, BLOCKED) as refused:
            self.validate(picking, self.salesman)
        self.assertIn("Sales order %s is on credit hold. A user in the group Credit Controller" % order.name,
                      str(refused.exception))
        self.assertNotIn("Exposure above the limit", str(refused.exception))

    def test_released_order_is_delivered(self):
        order = self.confirmed()
        picking = self.delivery(order)
        self.hold(order)
        order.with_user(self.controller).action_release_credit_hold(reason="Customer paid.")
        self.assertIs(self.validate(picking, self.salesman), True)
        self.assertEqual(picking.state, "done")

    def test_order_not_held_is_delivered(self):
        picking = self.delivery(self.confirmed())
        self.assertIs(self.validate(picking, self.salesman), True)
        self.assertEqual(picking.state, "done")
