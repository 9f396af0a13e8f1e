# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
from . import res_partner
from . import sale_order
