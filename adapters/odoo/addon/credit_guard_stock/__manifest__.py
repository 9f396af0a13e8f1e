# Part of CreditGuard. License LGPL-3.
{
    "name": "CreditGuard - Deliveries",
    "version": "17.0.1.0.0",
    "category": "Sales/Sales",
    "summary": "Deliveries of sales orders on credit hold cannot be validated",
    "description": """
Bridge between CreditGuard and sale_stock, installed automatically when both are: the delivery of
a confirmed sales order on credit hold cannot be validated (by anybody) until a Credit Controller
releases the hold, and the order's hold banner says so. See README.rst.
""",
    "author": "CreditGuard",
    "license": "LGPL-3",
    "depends": ["credit_guard", "sale_stock"],
    "data": [
        "views/sale_order_views.xml",
    ],
    "installable": True,
    "application": False,
    "auto_install": True,
}
