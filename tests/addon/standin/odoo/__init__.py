"""A stand-in for the few parts of the Odoo 17/19 server API that the credit_guard addon uses.

It is NOT Odoo: just enough of ``odoo.models``, ``odoo.fields``, ``odoo.api``,
``odoo.exceptions``, ``odoo.Command``, ``odoo._`` and ``odoo.tests`` to import the addon's Python modules and run
their methods against an in-memory store (see tests/addon/harness.py).  The test
fixtures load it under the name ``odoo`` through ``sys.modules`` only while the
addon tests run; it is never on ``sys.path``.
"""

from . import api, exceptions, fields, models  # noqa: F401
from .fields import Command  # noqa: F401
from .translate import _  # noqa: F401
