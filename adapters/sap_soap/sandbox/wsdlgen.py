"""Generator of the *reference* WSDLs for BAPIs that have no public SAP WSDL.

The output imitates what SOAMANAGER ("Open WSDL document for selected binding",
``wsdl11/allinone/ws_policy/document``) produces for an RFC-based service
definition in mc-style, modelled on the real files next to it
(``z_bapi_ar_acc_getopenitems.wsdl`` and friends, and ``Service.wsdl`` for the
RFC-exception fault pattern):

* two schemas: simple types in ``urn:sap-com:document:sap:rfc:functions``
  (sorted by name), structures / ``TableOf…`` / messages in
  ``urn:sap-com:document:sap:soap:functions:mc-style``;
* parameters of a function in alphabetical order of their ABAP names, TABLES
  parameters in the request *and* the response;
* WS-Policy block (``BN__``, ``BN__…_soap12``, ``IF__``, ``OP__`` policies),
  SOAP 1.1 and SOAP 1.2 bindings, soapAction
  ``<namespace>:<SERVICE>:<Operation>Request``, one address per port.

Regenerate with ``python -m adapters.sap_soap.sandbox.wsdlgen`` (writes into
``wsdl/``). The files are shipped as the adapter's reference WSDLs: every file
starts with a comment saying it must be replaced by the target system's export.
Structures marked ``abridged`` below carry only the fields named in the
project's SAP notes; the real export has more.
"""

from __future__ import annotations

import hashlib
import pathlib
from dataclasses import dataclass, field

MC = "urn:sap-com:document:sap:soap:functions:mc-style"
RFC = "urn:sap-com:document:sap:rfc:functions"
WSDL_DIR = pathlib.Path(__file__).with_name("wsdl")
PLACEHOLDER_HOST = "http://sapsystem.example.com:8000"


# --------------------------------------------------------------------------- structures
# (mc name, simple type) in DDIC order.  Simple types: charN, numericN, date10,
# time, decimalP.S, currP.S, quantumP.S, cuky5, unit3, lang, xsd:int.

BAPIRET2 = [
    ("Type", "char1"), ("Id", "char20"), ("Number", "numeric3"), ("Message", "char220"),
    ("LogNo", "char20"), ("LogMsgNo", "numeric6"), ("MessageV1", "char50"), ("MessageV2", "char50"),
    ("MessageV3", "char50"), ("MessageV4", "char50"), ("Parameter", "char32"), ("Row", "xsd:int"),
    ("Field", "char30"), ("System", "char10"),
]
BAPIRET1 = [
    ("Type", "char1"), ("Id", "char20"), ("Number", "numeric3"), ("Message", "char220"),
    ("LogNo", "char20"), ("LogMsgNo", "numeric6"), ("MessageV1", "char50"), ("MessageV2", "char50"),
    ("MessageV3", "char50"), ("MessageV4", "char50"),
]
BAPIRETURN = [
    ("Type", "char1"), ("Code", "char5"), ("Message", "char220"), ("LogNo", "char20"),
    ("LogMsgNo", "numeric6"), ("MessageV1", "char50"), ("MessageV2", "char50"), ("MessageV3", "char50"),
    ("MessageV4", "char50"),
]
BAPIPAREX = [("Structure", "char30"), ("Valuepart1", "char240"), ("Valuepart2", "char240"),
             ("Valuepart3", "char240"), ("Valuepart4", "char240")]
BAPICUSTOMER_IDRANGE = [("Sign", "char1"), ("Option", "char2"), ("Low", "char10"), ("High", "char10")]
BAPICUSTOMER_ADDRESSDATA = [
    ("Customer", "char10"), ("Sort1", "char20"), ("Name", "char40"), ("Country", "char3"),
    ("Countryiso", "char2"), ("City", "char40"), ("PostlCod1", "char10"), ("Region", "char3"),
    ("Street", "char60"), ("Tel1Numbr", "char30"), ("FaxNumber", "char30"), ("Address", "char10"),
]
BAPICUSTOMER_SPECIALDATA = [("Customer", "char10"), ("Acc1Time", "char1")]
BAPICUSTOMER_04 = [
    ("Customer", "char10"), ("Name", "char35"), ("Name2", "char35"), ("Name3", "char35"), ("Name4", "char35"),
    ("City", "char35"), ("District", "char35"), ("PoBox", "char10"), ("PobxPcd", "char10"),
    ("PostlCode", "char10"), ("Region", "char3"), ("Countycode", "char3"), ("CityCode", "char4"),
    ("Street", "char35"), ("Telephone", "char16"), ("Country", "char3"), ("Countryiso", "char2"),
    ("PobxCty", "char3"), ("Langu", "lang"), ("LanguIso", "char2"), ("SortFld", "char10"),
    ("Matchcode1", "char25"), ("Matchcode2", "char25"), ("Matchcode3", "char25"), ("Formofaddr", "char15"),
    ("Telebox", "char15"), ("Telephone2", "char16"), ("Teletex", "char30"), ("Telex", "char30"),
    ("Transpzone", "char10"), ("NielsenId", "char2"),
]
# abridged: BAPICUSTOMER_KNA1 has ~110 fields on a real system
BAPICUSTOMER_KNA1 = [
    ("Customer", "char10"), ("Address", "char10"), ("OrdrBlkG", "char2"), ("AuthGroup", "char4"),
    ("Industry", "char4"), ("CreatDate", "date10"), ("EnteredBy", "char12"), ("BillBlkG", "char2"),
    ("AccntGrp", "char4"), ("DeliBlkG", "char2"), ("DelFlagG", "char1"), ("PstgBlkG", "char1"),
    ("TaxNo1", "char16"), ("VatRegNo", "char20"), ("Currency", "cuky5"), ("CurrencyIso", "char3"),
    ("PmntBlock", "char1"), ("SalesBlkg", "char2"),
]
BAPICUSTOMER_05 = [
    ("Customer", "char10"), ("CompCode", "char4"), ("Clerk", "char2"), ("HdOffice", "char10"),
    ("AltPayer", "char10"), ("CuvdClear", "char1"), ("Pmnttrms", "char4"), ("ActAtCus", "char12"),
    ("CustUser", "char15"), ("NextPayee", "char10"), ("BuyingGrp", "char10"), ("Internet", "char130"),
    ("Fax", "char31"), ("PaymentMethods", "char10"), ("Tel", "char30"),
]
# abridged
BAPICUSTOMER_02 = [
    ("BankCtry", "char3"), ("BankKey", "char15"), ("BankAcct", "char18"), ("CtrlKey", "char2"),
    ("BankRef", "char20"), ("Iban", "char34"),
]
BAPIORDERS = [
    ("SdDoc", "char10"), ("ItmNumber", "numeric6"), ("Material", "char18"), ("ShortText", "char40"),
    ("DocType", "char4"), ("DocDate", "date10"), ("ReqQty", "quantum15.3"), ("ReqDate", "date10"),
    ("PurchNo", "char20"), ("Batch", "char10"), ("ValidFrom", "date10"), ("ValidTo", "date10"),
    ("BillBlock", "char2"), ("DlvBlock", "char2"), ("SoldTo", "char10"), ("Name", "char35"),
    ("ExchgRate", "decimal9.5"), ("DlvQty", "quantum13.3"), ("BaseUom", "unit3"), ("NetPrice", "curr11.2"),
    ("CondPUnt", "decimal5.0"), ("CondUnit", "unit3"), ("NetValHd", "curr15.2"), ("NetValue", "curr15.2"),
    ("Division", "char2"), ("DocStatus", "char20"), ("SalesGrp", "char3"), ("SalesOff", "char4"),
    ("SalesOrg", "char4"), ("SalesUnit", "unit3"), ("ShipPoint", "char4"), ("DistrChan", "char2"),
    ("GiDate", "date10"), ("Currency", "cuky5"), ("Plant", "char4"), ("StoreLoc", "char4"),
    ("OrdReason", "char3"), ("ReasonRej", "char2"), ("BUomIso", "char3"), ("CdUntIso", "char3"),
    ("SUnitIso", "char3"), ("CurrIso", "char3"), ("PurchNoC", "char35"), ("ExchgRateV", "decimal9.5"),
    ("MatExt", "char40"), ("MatGuid", "char32"), ("MatVers", "char10"), ("CreationDate", "date10"),
    ("CreationTime", "time"), ("StatusDoc", "char1"), ("ReqSegment", "char16"), ("MaterialLong", "char40"),
    ("DbCrInd", "char1"),
]
# abridged: BAPISDH1 / BAPISDH1X have ~116 fields on a real system
BAPISDH1 = [
    ("SalesOrg", "char4"), ("DistrChan", "char2"), ("Division", "char2"), ("ReqDateH", "date10"),
    ("PurchNoC", "char35"), ("Pmnttrms", "char4"), ("DlvBlock", "char2"), ("BillBlock", "char2"),
    ("OrdReason", "char3"),
]
BAPISDH1X = [("Updateflag", "char1")] + [(n, "char1") for n, _ in BAPISDH1]
# exchange rates (function group 1093): BAPI1093_0 list row, BAPI1093_3 / _4 currency ranges
BAPI1093_0 = [
    ("RateType", "char4"), ("FromCurr", "cuky5"), ("ToCurrncy", "cuky5"), ("ValidFrom", "date10"),
    ("ExchRate", "decimal9.5"), ("FromFactor", "decimal9.0"), ("ToFactor", "decimal9.0"),
    ("ExchRateV", "decimal9.5"), ("FromFactorV", "decimal9.0"), ("ToFactorV", "decimal9.0"),
]
BAPI1093_3 = [("Sign", "char1"), ("Option", "char2"), ("Low", "char5"), ("High", "char5")]
BAPI1093_4 = [("Sign", "char1"), ("Option", "char2"), ("Low", "char5"), ("High", "char5")]
# ZSFI013: the credit master row of the customer function ZFI_CREDIT_DETAIL, field for field as its real
# export (zfi_credit_detail.wsdl) types it: KNKK field names, amounts as CHAR25 text (WRITE … CURRENCY)
ZSFI013 = [
    ("Kunnr", "char10"), ("Name1", "char30"), ("Kkber", "char4"), ("Currency", "char5"), ("Klimk", "char25"),
    ("Skfor", "char25"), ("Ssobl", "char25"), ("Klprz", "char8"), ("OpenDelivery", "char25"), ("Oblig", "char25"),
    ("Absbt", "char25"), ("Ctlpc", "char3"), ("Crblb", "char1"), ("Sbgrp", "char3"), ("Grupp", "char4"),
    ("Kdgrp", "char8"), ("Sbdat", "date10"), ("Dtrev", "date10"), ("Nxtrv", "date10"), ("Kraus", "char11"),
    ("Dbpay", "char3"), ("Revdb", "date10"), ("Dbrtg", "char5"), ("Dbmon", "date10"), ("Dbekr", "char25"),
    ("Zterm", "char4"),
]


@dataclass
class Param:
    name: str          # mc name
    type: str          # simple type or complex type name
    optional: bool = False
    table: bool = False  # TABLES parameter: in request and response
    export: bool = False  # EXPORTING parameter: response only


@dataclass
class Operation:
    name: str
    params: list[Param]
    exceptions: list[str] = field(default_factory=list)


@dataclass
class Service:
    name: str               # service definition, upper case, e.g. Z_BAPI_SALESORDER_CHANGE
    filename: str
    function: str           # documentation only
    operations: list[Operation]
    structures: dict[str, list[tuple[str, str]]]
    session: bool = False
    note: str = ""

    @property
    def path_name(self) -> str:
        return self.name.lower()


def _tableof(t: str) -> str:
    return "TableOf" + t


SERVICES: list[Service] = [
    Service(
        name="Z_BAPI_CUSTOMER_GETLIST", filename="z_bapi_customer_getlist.wsdl", function="BAPI_CUSTOMER_GETLIST",
        structures={"BapicustomerAddressdata": BAPICUSTOMER_ADDRESSDATA, "BapicustomerIdrange": BAPICUSTOMER_IDRANGE,
                    "BapicustomerSpecialdata": BAPICUSTOMER_SPECIALDATA, "Bapireturn1": BAPIRET1},
        operations=[Operation("CustomerGetlist", [
            Param("Addressdata", _tableof("BapicustomerAddressdata"), table=True),
            Param("Cpdonly", "char1", optional=True),
            Param("Idrange", _tableof("BapicustomerIdrange"), table=True),
            Param("Maxrows", "xsd:int", optional=True),
            Param("Return", "Bapireturn1", export=True),
            Param("Specialdata", _tableof("BapicustomerSpecialdata"), table=True, optional=True),
        ])],
        note="BAPICUSTOMER_ADDRESSDATA field lengths are not public; taken from the underlying address fields.",
    ),
    Service(
        name="Z_BAPI_CUSTOMER_GETDETAIL2", filename="z_bapi_customer_getdetail2.wsdl",
        function="BAPI_CUSTOMER_GETDETAIL2",
        structures={"Bapicustomer02": BAPICUSTOMER_02, "Bapicustomer04": BAPICUSTOMER_04,
                    "Bapicustomer05": BAPICUSTOMER_05, "BapicustomerKna1": BAPICUSTOMER_KNA1, "Bapiret1": BAPIRET1},
        operations=[Operation("CustomerGetdetail2", [
            Param("Companycode", "char4", optional=True),
            Param("Customeraddress", "Bapicustomer04", export=True),
            Param("Customerbankdetail", _tableof("Bapicustomer02"), table=True, optional=True),
            Param("Customercompanydetail", "Bapicustomer05", export=True),
            Param("Customergeneraldetail", "BapicustomerKna1", export=True),
            Param("Customerno", "char10"),
            Param("Return", "Bapiret1", export=True),
        ])],
        note="BapicustomerKna1 and Bapicustomer02 are abridged (the real structures have many more fields).",
    ),
    Service(
        name="Z_BAPI_SALESORDER_GETLIST", filename="z_bapi_salesorder_getlist.wsdl",
        function="BAPI_SALESORDER_GETLIST",
        structures={"Bapiorders": BAPIORDERS, "Bapiparex": BAPIPAREX, "Bapireturn": BAPIRETURN},
        operations=[Operation("SalesorderGetlist", [
            Param("CustomerNumber", "char10"),
            Param("DocumentDate", "date10", optional=True),
            Param("DocumentDateTo", "date10", optional=True),
            Param("Extensionex", _tableof("Bapiparex"), table=True, optional=True),
            Param("Extensionin", _tableof("Bapiparex"), table=True, optional=True),
            Param("Material", "char18", optional=True),
            Param("MaterialEvg", "char40", optional=True),
            Param("MaterialLong", "char40", optional=True),
            Param("PurchaseOrder", "char10", optional=True),
            Param("PurchaseOrderNumber", "char35", optional=True),
            Param("Return", "Bapireturn", export=True),
            Param("SalesOrders", _tableof("Bapiorders"), table=True),
            Param("SalesOrganization", "char4"),
            Param("TransactionGroup", "char1", optional=True),
        ])],
        note="NetValHd / NetValue / NetPrice are CURR fields (curr15.2), not BAPI amounts (decimal23.4).",
    ),
    Service(
        name="Z_BAPI_SALESORDER_CHANGE", filename="z_bapi_salesorder_change.wsdl",
        function="BAPI_SALESORDER_CHANGE + BAPI_TRANSACTION_COMMIT + BAPI_TRANSACTION_ROLLBACK (stateful)",
        structures={"Bapiparex": BAPIPAREX, "Bapiret2": BAPIRET2, "Bapisdh1": BAPISDH1, "Bapisdh1x": BAPISDH1X},
        session=True,
        operations=[
            Operation("SalesorderChange", [
                Param("BehaveWhenError", "char1", optional=True),
                Param("Extensionin", _tableof("Bapiparex"), table=True, optional=True),
                Param("IntNumberAssignment", "char1", optional=True),
                Param("NoStatusBufInit", "char1", optional=True),
                Param("OrderHeaderIn", "Bapisdh1", optional=True),
                Param("OrderHeaderInx", "Bapisdh1x"),
                Param("Return", _tableof("Bapiret2"), table=True),
                Param("Salesdocument", "char10"),
                Param("Simulation", "char1", optional=True),
            ]),
            Operation("TransactionCommit", [
                Param("Return", "Bapiret2", export=True),
                Param("Wait", "char1", optional=True),
            ]),
            Operation("TransactionRollback", [
                Param("Return", "Bapiret2", export=True),
            ]),
        ],
        note="Session handling switched on (sapsession:enableSession true): change and commit must travel "
             "in one HTTP session (cookies sap-contextid / SAP_SESSIONID_<SID>_<client>). "
             "Bapisdh1 / Bapisdh1x are abridged; only the TABLES parameters the adapter needs are listed.",
    ),
    Service(
        name="Z_BAPI_TRANSACTION_COMMIT", filename="z_bapi_transaction_commit.wsdl",
        function="BAPI_TRANSACTION_COMMIT + BAPI_TRANSACTION_ROLLBACK (stateless)",
        structures={"Bapiret2": BAPIRET2},
        operations=[
            Operation("TransactionCommit", [
                Param("Return", "Bapiret2", export=True),
                Param("Wait", "char1", optional=True),
            ]),
            Operation("TransactionRollback", [
                Param("Return", "Bapiret2", export=True),
            ]),
        ],
        note="Stateless: a commit sent here runs in a fresh ABAP session and commits nothing of another call.",
    ),
    Service(
        name="ZCG_SALESORDER_SET_DLV_BLOCK", filename="zcg_salesorder_set_dlv_block.wsdl",
        function="ZCG_SALESORDER_SET_DLV_BLOCK (customer wrapper: BAPI_SALESORDER_CHANGE + COMMIT/ROLLBACK)",
        structures={"Bapiret2": BAPIRET2},
        operations=[Operation("ZcgSalesorderSetDlvBlock", [
            Param("DlvBlock", "char2"),
            Param("Return", _tableof("Bapiret2"), table=True),
            Param("Salesdocument", "char10"),
            Param("Testrun", "char1", optional=True),
        ], exceptions=["ForeignLock", "NoAuthority"])],
        note="Customer-written RFC wrapper (pattern of ZCA_SALESORDER_CHANGE): sets/removes the delivery block "
             "and commits (COMMIT WORK AND WAIT) or rolls back in the same ABAP session. Exceptions "
             "FOREIGN_LOCK / NO_AUTHORITY are raised as classic exceptions (SOAP fault).",
    ),
    Service(
        name="Z_BAPI_EXCHRATE_GETCURRENTRATES", filename="z_bapi_exchrate_getcurrentrates.wsdl",
        function="BAPI_EXCHRATE_GETCURRENTRATES (function group 1093)",
        structures={"Bapi10930": BAPI1093_0, "Bapi10933": BAPI1093_3, "Bapi10934": BAPI1093_4,
                    "Bapiret1": BAPIRET1},
        operations=[Operation("ExchrateGetcurrentrates", [
            Param("Date", "date10"),
            Param("DateType", "char1", optional=True),
            Param("ExchRateList", _tableof("Bapi10930"), table=True, optional=True),
            Param("FromCurrRange", _tableof("Bapi10933"), table=True, optional=True),
            Param("RateType", "char4", optional=True),
            Param("Return", _tableof("Bapiret1"), table=True, optional=True),
            Param("ShowProtocol", "char1", optional=True),
            Param("ToCurrncyRange", _tableof("Bapi10934"), table=True, optional=True),
        ])],
        note="TCURR rates of one rate type valid on DATE, per currency pair. ExchRate (direct quotation) or "
             "ExchRateV (indirect) is filled, the other is 0; each factor belongs to the currency in its name.",
    ),
    Service(
        name="ZCG_CREDIT_LIST", filename="zcg_credit_list.wsdl",
        function="ZCG_CREDIT_LIST (customer function: list variant of ZFI_CREDIT_DETAIL)",
        structures={"BapicustomerIdrange": BAPICUSTOMER_IDRANGE, "Bapireturn1": BAPIRET1, "Zsfi013": ZSFI013},
        operations=[Operation("ZcgCreditList", [
            Param("Bukrs", "char4"),
            Param("Kkber", "char4", optional=True),
            Param("Kunnr", _tableof("BapicustomerIdrange"), table=True),
            Param("Maxrows", "xsd:int", optional=True),
            Param("Return", "Bapireturn1", export=True),
            Param("Zsfi013", _tableof("Zsfi013"), table=True),
        ])],
        note="Customer-written RFC function (template: adapters/sap_soap/abap/zcg_credit_list.abap): the credit "
             "masters (KNKK) of the customers in range KUNNR in one credit control area (KKBER, else the one "
             "assigned to company code BUKRS), ascending by customer, at most MAXROWS (0: all); a customer without "
             "a credit master there is left out. ZSFI013 rows as ZFI_CREDIT_DETAIL returns them.",
    ),
]


# --------------------------------------------------------------------------- rendering

def _simple_type_xml(name: str, ind: str) -> str:
    def r(base: str, facets: list[str]) -> str:
        inner = "".join(f"{ind}        {f}\n" for f in facets)
        return (f'{ind}<xsd:simpleType name="{name}">\n{ind}    <xsd:restriction base="{base}">\n'
                f"{inner}{ind}    </xsd:restriction>\n{ind}</xsd:simpleType>\n")

    if name.startswith("char"):
        return r("xsd:string", [f'<xsd:maxLength value="{name[4:]}"/>'])
    if name.startswith("numeric"):
        return r("xsd:string", [f'<xsd:maxLength value="{name[7:]}"/>', '<xsd:pattern value="\\d*"/>'])
    if name == "date10":
        return r("xsd:string", ['<xsd:maxLength value="10"/>', '<xsd:pattern value="\\d\\d\\d\\d-\\d\\d-\\d\\d"/>'])
    if name == "time":
        return r("xsd:time", ['<xsd:pattern value="[0-9]{2}:[0-9]{2}:[0-9]{2}"/>'])
    for prefix in ("decimal", "curr", "quantum"):
        if name.startswith(prefix):
            total, frac = name[len(prefix):].split(".")
            return r("xsd:decimal", [f'<xsd:totalDigits value="{total}"/>', f'<xsd:fractionDigits value="{frac}"/>'])
    if name == "cuky5":
        return r("xsd:string", ['<xsd:maxLength value="5"/>'])
    if name == "unit3":
        return r("xsd:string", ['<xsd:maxLength value="3"/>'])
    if name == "lang":
        return r("xsd:string", ['<xsd:maxLength value="1"/>'])
    raise ValueError(name)


def _tref(t: str, complex_names: set[str]) -> str:
    if t.startswith("xsd:"):
        return t
    if t in complex_names:
        return "tns:" + t
    return "n0:" + t


def render(svc: Service, address: str | None = None) -> str:
    ind = "    "
    address = address or f"{PLACEHOLDER_HOST}/sap/bc/srt/rfc/sap/{svc.path_name}/100/{svc.path_name}/{svc.path_name}"
    bapp = hashlib.md5(b"creditguard-sandbox").hexdigest().upper()
    complex_names = set(svc.structures) | {_tableof(s) for s in svc.structures}
    simple: set[str] = set()
    for fields in svc.structures.values():
        simple.update(t for _, t in fields if not t.startswith("xsd:"))
    for op in svc.operations:
        simple.update(p.type for p in op.params if p.type not in complex_names and not p.type.startswith("xsd:"))
    has_exc = any(op.exceptions for op in svc.operations)
    used_tables = {p.type for op in svc.operations for p in op.params if p.type.startswith("TableOf")}

    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="utf-8"?>\n')
    w("<!--\n"
      f"  REFERENCE WSDL, NOT AN EXPORT OF A REAL SYSTEM.\n"
      f"  Service definition {svc.name} for {svc.function}.\n"
      "  Written by CreditGuard in the layout SOAMANAGER generates for RFC-based services (mc-style),\n"
      "  because no public WSDL of this function exists. Replace it with the target system's own\n"
      "  export (SOAMANAGER > service > 'Open WSDL document for selected binding').\n")
    if svc.note:
        w(f"  {svc.note}\n")
    w("-->\n")
    w(f'<wsdl:definitions targetNamespace="{MC}"\n'
      '                  xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xsd="http://www.w3.org/2001/XMLSchema"\n'
      '                  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"\n'
      '                  xmlns:wsoap12="http://schemas.xmlsoap.org/wsdl/soap12/"\n'
      '                  xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" '
      'xmlns:mime="http://schemas.xmlsoap.org/wsdl/mime/"\n'
      f'                  xmlns:tns="{MC}"\n'
      '                  xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"\n'
      '                  xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"\n'
      f'                  xmlns:n1="{RFC}">\n')
    w(f"{ind}<wsdl:documentation>\n{ind}{ind}<sidl:sidl xmlns:sidl=\"http://www.sap.com/2007/03/sidl\"/>\n"
      f"{ind}</wsdl:documentation>\n")
    w(f'{ind}<wsp:UsingPolicy wsdl:required="true"/>\n')
    bn_all = (
        '{i}            <wsp:All>\n'
        '{i}                <sapattahnd:Enabled xmlns:sapattahnd="http://www.sap.com/710/features/attachment/">'
        'false</sapattahnd:Enabled>\n'
        '{i}                {transport}\n'
        '{i}                <wsaw:UsingAddressing xmlns:wsaw="http://www.w3.org/2006/05/addressing/wsdl" '
        'wsp:Optional="true"/>\n'
        '{i}            </wsp:All>\n')
    t1 = ('<saptrnbnd:OptimizedMimeSerialization '
          'xmlns:saptrnbnd="http://schemas.xmlsoap.org/ws/2004/09/policy/optimizedmimeserialization" '
          'wsp:Optional="true"/>')
    t2 = ('<saptrnbnd:OptimizedXMLTransfer uri="http://xml.sap.com/2006/11/esi/esp/binxml" '
          'xmlns:saptrnbnd="http://www.sap.com/webas/710/soap/features/transportbinding/" wsp:Optional="true"/>')
    for suffix in ("", "_soap12"):
        w(f'{ind}<wsp:Policy wsu:Id="BN__{svc.name}{suffix}">\n{ind}    <wsp:ExactlyOne>\n')
        w(bn_all.format(i="", transport=t1))
        w(bn_all.format(i="", transport=t2))
        w(f"{ind}    </wsp:ExactlyOne>\n{ind}</wsp:Policy>\n")
    w(f'{ind}<wsp:Policy wsu:Id="IF__{svc.name}">\n{ind}    <wsp:ExactlyOne>\n{ind}        <wsp:All>\n'
      f'{ind}            <sapsession:Session xmlns:sapsession="http://www.sap.com/webas/630/soap/features/session/">\n'
      f'{ind}                <sapsession:enableSession>{"true" if svc.session else "false"}'
      f'</sapsession:enableSession>\n'
      f'{ind}            </sapsession:Session>\n'
      f'{ind}            <sapcentraladmin:CentralAdministration '
      f'xmlns:sapcentraladmin="http://www.sap.com/webas/700/soap/features/CentralAdministration/" '
      f'wsp:Optional="true">\n'
      f'{ind}                <sapcentraladmin:BusinessApplicationID>{bapp}</sapcentraladmin:BusinessApplicationID>\n'
      f'{ind}            </sapcentraladmin:CentralAdministration>\n'
      f'{ind}        </wsp:All>\n{ind}    </wsp:ExactlyOne>\n{ind}</wsp:Policy>\n')
    for op in svc.operations:
        w(f'{ind}<wsp:Policy wsu:Id="OP__{op.name}">\n{ind}    <wsp:ExactlyOne>\n{ind}        <wsp:All>\n'
          f'{ind}            <saptrhnw05:required xmlns:saptrhnw05="http://www.sap.com/NW05/soap/features/transaction/">'
          f'no</saptrhnw05:required>\n'
          f'{ind}            <sapcomhnd:enableCommit xmlns:sapcomhnd="http://www.sap.com/NW05/soap/features/commit/">'
          f'false</sapcomhnd:enableCommit>\n'
          f'{ind}            <sapblock:enableBlocking xmlns:sapblock="http://www.sap.com/NW05/soap/features/blocking/">'
          f'true</sapblock:enableBlocking>\n'
          f'{ind}            <saprmnw05:enableWSRM xmlns:saprmnw05="http://www.sap.com/NW05/soap/features/wsrm/">'
          f'false</saprmnw05:enableWSRM>\n'
          f'{ind}        </wsp:All>\n{ind}    </wsp:ExactlyOne>\n{ind}</wsp:Policy>\n')

    # types
    w(f"{ind}<wsdl:types>\n")
    i2 = ind * 2
    w(f'{i2}<xsd:schema attributeFormDefault="qualified" targetNamespace="{RFC}"\n'
      f'{i2}            xmlns:tns="{RFC}">\n')
    for name in sorted(simple):
        w(_simple_type_xml(name, ind * 3))
    w(f"{i2}</xsd:schema>\n")
    w(f'{i2}<xsd:schema attributeFormDefault="qualified" targetNamespace="{MC}"\n'
      f'{i2}            xmlns:n0="{RFC}">\n')
    i3, i4, i5 = ind * 3, ind * 4, ind * 5
    w(f'{i3}<xsd:import namespace="{RFC}"/>\n')
    if has_exc:
        w(f'{i3}<xsd:simpleType name="RfcException.Message.Number">\n{i4}<xsd:restriction base="xsd:string">\n'
          f'{i5}<xsd:maxLength value="3"/>\n{i5}<xsd:pattern value="\\d*"/>\n{i4}</xsd:restriction>\n'
          f'{i3}</xsd:simpleType>\n')
    for sname, fields in svc.structures.items():
        w(f'{i3}<xsd:complexType name="{sname}">\n{i4}<xsd:sequence>\n')
        for fname, ftype in fields:
            w(f'{i5}<xsd:element name="{fname}" type="{_tref(ftype, complex_names)}"/>\n')
        w(f"{i4}</xsd:sequence>\n{i3}</xsd:complexType>\n")
    if has_exc:
        w(f'{i3}<xsd:complexType name="RfcException.Message">\n{i4}<xsd:sequence>\n'
          f'{i5}<xsd:element name="ID" type="xsd:string"/>\n'
          f'{i5}<xsd:element name="Number" type="tns:RfcException.Message.Number"/>\n'
          f'{i4}</xsd:sequence>\n{i3}</xsd:complexType>\n')
        for op in svc.operations:
            if op.exceptions:
                w(f'{i3}<xsd:complexType name="{op.name}.RfcException">\n{i4}<xsd:sequence>\n'
                  f'{i5}<xsd:element name="Name" type="tns:{op.name}.RfcExceptions"/>\n'
                  f'{i5}<xsd:element name="Text" type="xsd:string" minOccurs="0"/>\n'
                  f'{i5}<xsd:element name="Message" type="tns:RfcException.Message" minOccurs="0"/>\n'
                  f'{i4}</xsd:sequence>\n{i3}</xsd:complexType>\n')
    for sname in svc.structures:
        if _tableof(sname) in used_tables:
            w(f'{i3}<xsd:complexType name="{_tableof(sname)}">\n{i4}<xsd:sequence>\n'
              f'{i5}<xsd:element name="item" type="tns:{sname}" minOccurs="0" maxOccurs="unbounded"/>\n'
              f'{i4}</xsd:sequence>\n{i3}</xsd:complexType>\n')
    for op in svc.operations:
        if op.exceptions:
            w(f'{i3}<xsd:simpleType name="{op.name}.RfcExceptions">\n{i4}<xsd:restriction base="xsd:string">\n')
            for e in op.exceptions:
                w(f'{i5}<xsd:enumeration value="{e}"/>\n')
            w(f"{i4}</xsd:restriction>\n{i3}</xsd:simpleType>\n")
            w(f'{i3}<xsd:element name="{op.name}.Exception" type="tns:{op.name}.RfcException"/>\n')
    i6 = ind * 6
    for op in svc.operations:
        for suffix, params in (("", [p for p in op.params if not p.export]),
                               ("Response", [p for p in op.params if p.export or p.table])):
            w(f'{i3}<xsd:element name="{op.name}{suffix}">\n{i4}<xsd:complexType>\n{i5}<xsd:sequence>\n')
            for p in params:
                occ = ' minOccurs="0"' if p.optional and not suffix else ""
                w(f'{i6}<xsd:element name="{p.name}" type="{_tref(p.type, complex_names)}"{occ}/>\n')
            w(f"{i5}</xsd:sequence>\n{i4}</xsd:complexType>\n{i3}</xsd:element>\n")
    w(f"{i2}</xsd:schema>\n{ind}</wsdl:types>\n")

    for op in svc.operations:
        w(f'{ind}<wsdl:message name="{op.name}">\n{i2}<wsdl:part name="parameters" element="tns:{op.name}"/>\n'
          f"{ind}</wsdl:message>\n")
        w(f'{ind}<wsdl:message name="{op.name}Response">\n'
          f'{i2}<wsdl:part name="parameter" element="tns:{op.name}Response"/>\n{ind}</wsdl:message>\n')
        if op.exceptions:
            w(f'{ind}<wsdl:message name="{op.name}.Exception">\n'
              f'{i2}<wsdl:part name="{op.name}.Exception" element="tns:{op.name}.Exception"/>\n'
              f"{ind}</wsdl:message>\n")
    w(f'{ind}<wsdl:portType name="{svc.name}">\n{i2}<wsp:Policy>\n'
      f'{i3}<wsp:PolicyReference URI="#IF__{svc.name}"/>\n{i2}</wsp:Policy>\n')
    for op in svc.operations:
        w(f'{i2}<wsdl:operation name="{op.name}">\n{i3}<wsp:Policy>\n'
          f'{i4}<wsp:PolicyReference URI="#OP__{op.name}"/>\n{i3}</wsp:Policy>\n'
          f'{i3}<wsdl:input message="tns:{op.name}"/>\n{i3}<wsdl:output message="tns:{op.name}Response"/>\n')
        if op.exceptions:
            w(f'{i3}<wsdl:fault name="{op.name}.Exception" message="tns:{op.name}.Exception"/>\n')
        w(f"{i2}</wsdl:operation>\n")
    w(f"{ind}</wsdl:portType>\n")
    for suffix, pfx in (("", "soap"), ("_soap12", "wsoap12")):
        w(f'{ind}<wsdl:binding name="{svc.name}{suffix}" type="tns:{svc.name}">\n{i2}<wsp:Policy>\n'
          f'{i3}<wsp:PolicyReference URI="#BN__{svc.name}{suffix}"/>\n{i2}</wsp:Policy>\n'
          f'{i2}<{pfx}:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>\n')
        for op in svc.operations:
            w(f'{i2}<wsdl:operation name="{op.name}">\n'
              f'{i3}<{pfx}:operation soapAction="{MC}:{svc.name}:{op.name}Request" style="document"/>\n'
              f'{i3}<wsdl:input>\n{i4}<{pfx}:body use="literal"/>\n{i3}</wsdl:input>\n'
              f'{i3}<wsdl:output>\n{i4}<{pfx}:body use="literal"/>\n{i3}</wsdl:output>\n')
            if op.exceptions:
                w(f'{i3}<wsdl:fault name="{op.name}.Exception">\n'
                  f'{i4}<{pfx}:fault name="{op.name}.Exception" use="literal"/>\n{i3}</wsdl:fault>\n')
            w(f"{i2}</wsdl:operation>\n")
        w(f"{ind}</wsdl:binding>\n")
    w(f'{ind}<wsdl:service name="{svc.name}">\n'
      f'{i2}<wsdl:port name="{svc.name}" binding="tns:{svc.name}">\n{i3}<soap:address location="{address}"/>\n'
      f"{i2}</wsdl:port>\n"
      f'{i2}<wsdl:port name="{svc.name}_soap12" binding="tns:{svc.name}_soap12">\n'
      f'{i3}<wsoap12:address location="{address}"/>\n{i2}</wsdl:port>\n'
      f"{ind}</wsdl:service>\n</wsdl:definitions>\n")
    return "".join(out)


def main() -> None:  # pragma: no cover - maintenance tool
    for svc in SERVICES:
        (WSDL_DIR / svc.filename).write_text(render(svc), encoding="utf-8")
        print("wrote", WSDL_DIR / svc.filename)


if __name__ == "__main__":  # pragma: no cover
    main()
