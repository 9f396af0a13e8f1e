"""odoo.exceptions: the two classes the addon raises (same hierarchy as Odoo)."""


class UserError(Exception):
    def __init__(self, message):
        super().__init__(message)


class AccessError(UserError):
    """As in Odoo, an AccessError is a UserError."""
