# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
from . import test_credit_guard_stock
