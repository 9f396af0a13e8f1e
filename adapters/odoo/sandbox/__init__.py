"""A real Odoo 17.0 / 19.0 external-API server on loopback, for tests and benchmarks.

    with OdooSandbox(version="17", data="demo") as sb:
        xmlrpc.client.ServerProxy(f"{sb.url}/xmlrpc/2/object").execute_kw(
            "demo", 2, "admin", "res.partner", "search_count", [[]])

Speaks XML-RPC (``/xmlrpc/2/<service>`` and legacy ``/xmlrpc/<service>``),
JSON-RPC (``/jsonrpc``) and, on 19, JSON-2 (``/json/2/<model>/<method>``),
with the fault and error answers of the real servers.  Standard library only.
"""

from .cli import main, serve
from .sandbox import OdooSandbox

__all__ = ["OdooSandbox", "main", "serve"]
