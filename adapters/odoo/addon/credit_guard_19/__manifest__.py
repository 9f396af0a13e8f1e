# Part of CreditGuard. License LGPL-3.
{
    "name": "CreditGuard",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "summary": "Credit holds on sales orders and risk grades on customers, kept by the CreditGuard daemon",
    "description": """
CreditGuard puts sales orders on credit hold (with the reasons and the approval tier that may
release them), blocks their confirmation until a Credit Controller releases them, can ask the
CreditGuard daemon in real time before confirming, and shows the daemon's risk grade, exposure
and limit on the customer. See README.rst.

Odoo 19.0 port: install this directory under the name ``credit_guard``.
""",
    "author": "CreditGuard",
    "license": "LGPL-3",
    "depends": ["sale_management", "account"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/credit_guard_security.xml",
        "security/ir.model.access.csv",
        "data/credit_guard_tier_data.xml",
        "views/sale_order_views.xml",
        "views/res_partner_views.xml",
        "views/credit_hold_views.xml",
        "views/credit_release_wizard_views.xml",
    ],
    "installable": True,
    "application": False,
    "auto_install": False,
}
