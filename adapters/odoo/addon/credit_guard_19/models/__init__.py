# Part of CreditGuard. License LGPL-3 (see __manifest__.py).
from . import credit_guard_tier
from . import credit_release_wizard
from . import res_partner
from . import sale_order
