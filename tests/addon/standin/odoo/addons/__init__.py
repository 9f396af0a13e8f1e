"""odoo.addons: the addons under test are loaded here (odoo.addons.credit_guard, ...)."""
