"""odoo.tests: what the addons' own test modules import (``tagged``, ``TransactionCase``, ``new_test_user``)."""

from .common import TransactionCase, new_test_user, tagged  # noqa: F401
