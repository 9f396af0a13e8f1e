"""``python -m adapters.odoo.sandbox --port 8069 --data demo --version 17``."""

import sys

from .cli import main

sys.exit(main())
