"""odoo.tests.common: ``TransactionCase`` and its helpers, on the stand-in's registries.

As in Odoo: a class's ``setUpClass`` opens the test transaction (everything it creates is rolled back
after the class), each test runs in a savepoint rolled back after the test, and ``assertRaises`` runs its
block in a savepoint rolled back when the expected exception comes (so a failed operation leaves
nothing behind, as on a real server).  ``cls.env`` is the superuser's environment (uid OdooBot, ``su``).

Which database: the test harness sets ``REGISTRY_FACTORY`` to a function that returns the registry for
a test module's name (``odoo.addons.<addon>.tests.<module>``) with the addon and its dependencies.
"""

import unittest
from contextlib import contextmanager

from .. import api
from ..fields import Command

REGISTRY_FACTORY = None  # set by the harness: callable(module_name) -> registry


def tagged(*tags):
    """``@tagged("post_install", "-at_install")``: the tags are kept on the class (``test_tags``)."""

    def decorate(cls):
        cls.test_tags = {tag for tag in tags if not tag.startswith("-")} | set(getattr(cls, "test_tags", ()))
        cls.test_tags -= {tag[1:] for tag in tags if tag.startswith("-")}
        return cls

    return decorate


class BaseCase(unittest.TestCase):
    registry = None
    env = None

    @contextmanager
    def _assertRaises(self, exception, *, msg=None):
        """Odoo's ``assertRaises``: the block runs in a savepoint, rolled back when it raises."""
        state = self.registry.snapshot() if self.registry is not None else None
        with super().assertRaises(exception, msg=msg) as cm:
            try:
                yield cm
            except exception:
                if state is not None:
                    self.registry.restore(state)
                raise

    def assertRaises(self, exception, func=None, *args, **kwargs):
        if func is not None:
            with self._assertRaises(exception):
                func(*args, **kwargs)
            return None
        return self._assertRaises(exception, msg=kwargs.get("msg"))


class TransactionCase(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if REGISTRY_FACTORY is None:
            raise RuntimeError("odoo.tests: no test database (REGISTRY_FACTORY is not set)")
        cls.registry = REGISTRY_FACTORY(cls.__module__)
        cls.addClassCleanup(cls.registry.restore, cls.registry.snapshot())
        cls.cr = cls.registry.main_cursor
        cls.env = api.Environment(cls.registry, cls.registry.superuser_id, {}, su=True)

    def setUp(self):
        super().setUp()
        self.addCleanup(self.registry.restore, self.registry.snapshot())


def new_test_user(env, login="", groups="base.group_user", context=None, **kwargs):
    """Odoo's helper: a user with these groups (comma-separated external ids), password = login."""
    if not login:
        raise ValueError("New users require at least a login")
    if not groups:
        raise ValueError("New users require at least user groups")
    group_ids = [Command.set([env.ref(name.strip()).id for name in groups.split(",")])]
    values = dict(kwargs, login=login)
    values[env.registry.user_groups_field] = group_ids
    values.setdefault("name", "%s (%s)" % (login, groups))
    values.setdefault("email", login if "@" in login else "%s.%s@example.com" % (login, login))
    if "company_id" in values and "company_ids" not in values:
        values["company_ids"] = [Command.link(values["company_id"])]
    return env["res.users"].with_context(**(context or {})).create(values)

