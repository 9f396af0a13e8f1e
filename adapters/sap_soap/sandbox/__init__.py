"""SAP SOAP sandbox: the RFC-based web services CreditGuard's SAP adapter calls, on loopback.

    from adapters.sap_soap.sandbox import SapSandbox
    with SapSandbox() as sb:
        sb.wsdl_url("Z_BAPI_AR_ACC_GETOPENITEMS"), sb.endpoint("ZCG_SALESORDER_SET_DLV_BLOCK")

See README.md in this directory.
"""

from .cli import serve
from .data import FACTS, alpha
from .server import SERVICES, WSDL_DIR, Call, SapSandbox

__all__ = ["FACTS", "SERVICES", "WSDL_DIR", "Call", "SapSandbox", "alpha", "serve"]
