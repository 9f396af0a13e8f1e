"""SAP SOAP sandbox over real sockets with zeep as the client."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
import requests
import zeep
from zeep.exceptions import Fault, TransportError

from adapters.sap_soap import client as adapter_client
from adapters.sap_soap.sandbox import FACTS, SERVICES, WSDL_DIR, SapSandbox

from .conftest import TODAY, make_session

MC = "urn:sap-com:document:sap:soap:functions:mc-style"
# git blob ids of the real SAP exports in HD-OSK/soapClient, commit c014d4eb41742dadc92ad7ef2104218995e2a0ce
REAL_WSDL_BLOBS = {
    "z_bapi_ar_acc_getopenitems.wsdl": "fde8c28165e8738c297abe5bb05f7415d4062362",
    "zfi_credit_detail.wsdl": "e63dafbb1c130011e09cde6d5d2de64df632d4fc",
    "zfi_search_customer_ws.wsdl": "8d2b06b68a5b29256a93ea3aec4df9028f140dff",
}
KEY = TODAY.isoformat()


def open_items(client, customer, bukrs="1000", keydate=KEY):
    _, svc = client("Z_BAPI_AR_ACC_GETOPENITEMS")
    return svc.ArAccGetopenitems(Companycode=bukrs, Customer=customer, Keydate=keydate, Lineitems={})


def rows(table):
    """Items of a TableOf… value (zeep returns the bare list when it is the only response element)."""
    if isinstance(table, list):
        return table
    return list(table.item) if table is not None and table.item else []


def full(client_obj, type_name, **values):
    """A structure value with every field: SAP WSDLs declare structure fields without minOccurs=0."""
    t = client_obj.get_type(f"{{{MC}}}{type_name}")
    return {name: values.get(name, "") for name, _ in t.elements}


# ---------------------------------------------------------------- WSDL, transport


@pytest.mark.parametrize("name", sorted(REAL_WSDL_BLOBS))
def test_real_wsdls_are_byte_for_byte_copies(name):
    """The shipped real exports hash to the upstream git blobs: not one byte edited."""
    data = (WSDL_DIR / name).read_bytes()
    assert hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == REAL_WSDL_BLOBS[name]


def test_reference_wsdls_say_so_and_load_in_zeep():
    for service, name in SERVICES.items():
        text = (WSDL_DIR / name).read_text()
        if name.startswith(("z_bapi_ar", "zfi_")):
            continue
        assert "REFERENCE WSDL" in text.split("<wsdl:definitions", 1)[0]
        assert 'xmlns:n1="urn:sap-com:document:sap:rfc:functions"' in text
        assert f'soapAction="{MC}:{service}:' in text
        c = zeep.Client(str(WSDL_DIR / name))
        assert set(c.wsdl.services[service].ports) == {service, service + "_soap12"}


@pytest.mark.parametrize("service", sorted(adapter_client.SERVICES))
def test_the_adapter_ships_the_sandbox_wsdls(service):
    name = adapter_client.SERVICES[service]
    assert SERVICES[service] == name
    assert (adapter_client.WSDL_DIR / name).read_bytes() == (WSDL_DIR / name).read_bytes()


def test_reference_wsdls_match_their_generator():
    from adapters.sap_soap.sandbox import wsdlgen

    for svc in wsdlgen.SERVICES:
        assert (WSDL_DIR / svc.filename).read_text(encoding="utf-8") == wsdlgen.render(svc), svc.filename


def test_wsdl_download_has_sandbox_address(sb):
    r = make_session().get(sb.wsdl_url("Z_BAPI_AR_ACC_GETOPENITEMS"))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    endpoint = sb.endpoint("Z_BAPI_AR_ACC_GETOPENITEMS")
    assert endpoint == (f"{sb.url}/sap/bc/srt/rfc/sap/z_bapi_ar_acc_getopenitems/100/"
                        "z_bapi_ar_acc_getopenitems/z_bapi_ar_acc_getopenitems")
    assert r.text.count(f'location="{endpoint}"') == 2
    assert "handok" not in r.text
    # everything except the two addresses is the file as shipped
    original = (WSDL_DIR / "z_bapi_ar_acc_getopenitems.wsdl").read_bytes()
    assert len(r.content) - original.__len__() == 2 * (len(endpoint) - len(
        "http://vhhdkqs4ci.sap.handok.co.kr:8000/sap/bc/srt/rfc/sap/z_bapi_ar_acc_getopenitems/100/"
        "z_bapi_ar_acc_getopenitems/z_bapi_ar_acc_getopenitems"))


def test_zeep_from_wsdl_url(sb):
    from zeep.transports import Transport

    c = zeep.Client(sb.wsdl_url("Z_BAPI_AR_ACC_GETOPENITEMS"), transport=Transport(session=make_session()))
    res = c.service.ArAccGetopenitems(Companycode="1000", Customer="0000100002", Keydate=KEY, Lineitems={})
    assert res.Return.Type is None
    assert [i.Customer for i in rows(res.Lineitems)] == ["0000100002"]


def test_logon_and_unknown_path(sb):
    wsdl = sb.wsdl_url("ZFI_CREDIT_DETAIL")
    for auth in (None, ("admin", "wrong"), ("OTHER", "admin")):
        r = requests.get(wsdl, auth=auth)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == 'Basic realm="SAP NetWeaver Application Server [SBX/100]"'
        assert "Logon failed" in r.text and r.headers["Content-Type"].startswith("text/html")
    r = make_session().get(sb.url + "/sap/bc/srt/rfc/sap/z_nothing/100/z_nothing/z_nothing?wsdl")
    assert r.status_code == 404 and "Service cannot be reached" in r.text


def test_bad_credentials_on_soap_call(sb, client):
    # zeep strict=True: the HTML logon page is invalid XML -> TransportError with the status
    _, svc = client("Z_BAPI_AR_ACC_GETOPENITEMS", session=make_session(password="nope"), strict=True)
    with pytest.raises(TransportError) as e:
        svc.ArAccGetopenitems(Companycode="1000", Customer="0000100001", Keydate=KEY, Lineitems={})
    assert e.value.status_code == 401
    # zeep strict=False (recommended for SAP) parses the HTML in recover mode -> Fault without code;
    # an adapter must look at the HTTP status itself (e.g. a response hook on the requests Session)
    _, svc = client("Z_BAPI_AR_ACC_GETOPENITEMS", session=make_session(password="nope"))
    with pytest.raises(Fault) as e:
        svc.ArAccGetopenitems(Companycode="1000", Customer="0000100001", Keydate=KEY, Lineitems={})
    assert e.value.code is None and e.value.message == "Unknown fault occured" and b"Logon failed" in e.value.detail


def test_fail_next_and_delay_next(sb, client):
    _, svc = client("Z_BAPI_AR_ACC_GETOPENITEMS", timeout=0.3, strict=True)
    sb.fail_next(status=503)
    with pytest.raises(TransportError) as e:
        svc.ArAccGetopenitems(Companycode="1000", Customer="0000100002", Keydate=KEY, Lineitems={})
    assert e.value.status_code == 503 and b"Service Unavailable" in e.value.content
    sb.delay_next(1.0)
    with pytest.raises(requests.exceptions.Timeout):
        svc.ArAccGetopenitems(Companycode="1000", Customer="0000100002", Keydate=KEY, Lineitems={})
    res = svc.ArAccGetopenitems(Companycode="1000", Customer="0000100002", Keydate=KEY, Lineitems={})
    assert len(rows(res.Lineitems)) == 1


# ---------------------------------------------------------------- open items


def test_open_items_typed(sb, client):
    res = open_items(client, "0000100001")
    assert res.Return.Type is None
    items = rows(res.Lineitems)
    assert len(items) == 8
    for i in items:
        assert i.CompCode == "1000" and i.Customer == "0000100001" and i.LocCurrcy == "EUR"
        assert isinstance(i.LcAmount, Decimal) and i.LcAmount > 0 and isinstance(i.AmtDoccur, Decimal)
        assert i.DbCrInd in ("S", "H")
        assert i.ClearDate == "0000-00-00" and i.ClrDocNo is None
        assert len(i.DocNo) == 10 and len(i.ItemNum) == 3 and len(i.FiscYear) == 4
        assert isinstance(i.Netterms, Decimal)
    by_kind = {(i.DocType, i.DbCrInd, i.SpGlInd) for i in items}
    assert ("RV", "S", None) in by_kind and ("DG", "H", None) in by_kind and ("DZ", "H", "A") in by_kind
    usd = [i for i in items if i.Currency == "USD"]
    assert usd and usd[0].AmtDoccur == Decimal("2500") and usd[0].LcAmount == Decimal("2312.5")
    memo = next(i for i in items if i.DocType == "DG")
    assert memo.InvRef and memo.InvYear == "2024"
    ages = sorted((TODAY - dt.date.fromisoformat(i.PstngDate)).days for i in items if i.DocType == "RV")
    assert ages == [10, 20, 45, 75, 130]
    exposure = sum(i.LcAmount if i.DbCrInd == "S" else -i.LcAmount for i in items if not i.SpGlInd)
    assert exposure == Decimal("11900") + Decimal("5950") + Decimal("23800") + Decimal("4165") + Decimal(
        "2312.50") - Decimal("1190") - Decimal("3000")


def test_open_items_errors_are_return_lines(sb, client):
    res = open_items(client, FACTS["unknown_customer"])
    assert (res.Return.Type, res.Return.Code, res.Return.MessageV1) == ("E", "FN502", "0000199999")
    assert "0000199999" in res.Return.Message and rows(res.Lineitems) == []
    # no ALPHA conversion on the server: the external format is an unknown customer
    assert open_items(client, "100001").Return.Code == "FN502"
    res = open_items(client, "0000100026", bukrs="1000")
    assert (res.Return.Type, res.Return.Code) == ("E", "FN503")
    assert open_items(client, "0000100001", bukrs="9999").Return.Type == "E"
    assert open_items(client, FACTS["no_open_items_customer"]).Return.Type is None


def test_jpy_amounts_are_external(sb, client):
    items = rows(open_items(client, FACTS["jpy_customer"], bukrs="3000").Lineitems)
    assert {i.Currency for i in items} == {"JPY"} and {i.LocCurrcy for i in items} == {"JPY"}
    assert Decimal("1250000") in [i.AmtDoccur for i in items]
    assert all(i.LcAmount == i.LcAmount.to_integral_value() for i in items)


def test_zero_dates_where_sap_sends_them(sb, client):
    items = rows(open_items(client, "0000100005").Lineitems)
    assert [i.BlineDate for i in items if i.DocType == "DZ"] == ["0000-00-00"]
    assert all(i.LastDunn == "0000-00-00" for i in items)


def test_clear_item_and_key_date(sb, client):
    items = rows(open_items(client, "0000100002").Lineitems)
    assert len(items) == 1
    cleared = sb.clear_item(items[0].DocNo)
    assert cleared["ClearDate"] == TODAY
    assert rows(open_items(client, "0000100002").Lineitems) == []
    # at an earlier key date the item was still open: it comes back with its clearing data
    earlier = rows(open_items(client, "0000100002", keydate=(TODAY - dt.timedelta(days=1)).isoformat()).Lineitems)
    assert len(earlier) == 1 and earlier[0].ClearDate == KEY and earlier[0].ClrDocNo


def test_set_open_item(sb, client):
    item = sb.set_open_item("100004", "999.99", days_ago=40)
    items = rows(open_items(client, "0000100004").Lineitems)
    assert [(i.DocNo, i.LcAmount, i.DbCrInd) for i in items] == [(item["DocNo"], Decimal("999.99"), "S")]


def test_processing_error_is_server_fault(sb, client):
    _, svc = client("Z_BAPI_AR_ACC_GETOPENITEMS")
    with pytest.raises(Fault) as e:
        svc.ArAccGetopenitems(Companycode="1000", Customer="0000100001", Keydate="2024-13-45", Lineitems={})
    assert e.value.code == "soap-env:Server"
    assert e.value.message.startswith("Web service processing error; more details in the web service error log")
    assert "Transaction ID" in e.value.message


def test_missing_service_authorization(sb, client):
    sb.deny_service("ZFI_CREDIT_DETAIL")
    _, svc = client("ZFI_CREDIT_DETAIL")
    with pytest.raises(Fault) as e:
        svc.ZfiCreditDetail(Bukrs="1000", Kunnr="0000100001")
    assert e.value.code == "soap-env:Server"
    assert e.value.message.startswith(f'Authorization missing for service "{MC} ZFI_CREDIT_DETAIL"')


def test_soap12_port(sb, client):
    _, svc = client("Z_BAPI_AR_ACC_GETOPENITEMS", soap12=True)
    res = svc.ArAccGetopenitems(Companycode="1000", Customer="0000100002", Keydate=KEY, Lineitems={})
    assert len(rows(res.Lineitems)) == 1 and sb.calls[-1].soap_version == "1.2"


# ---------------------------------------------------------------- customers, credit


def test_customer_list_and_detail(sb, client):
    _, svc = client("Z_BAPI_CUSTOMER_GETLIST")
    res = svc.CustomerGetlist(Idrange={"item": [{"Sign": "I", "Option": "BT", "Low": "0000100001",
                                                 "High": "0000100030"}]}, Addressdata={}, Maxrows=0)
    addr = rows(res.Addressdata)
    assert len(addr) == 30 and addr[0].Customer == "0000100001" and res.Return.Type is None
    _, svc = client("Z_BAPI_CUSTOMER_GETDETAIL2")
    res = svc.CustomerGetdetail2(Customerno="0000100007", Companycode="1000")
    assert res.Return.Type is None and res.Customergeneraldetail.DeliBlkG == "01"
    assert res.Customercompanydetail.CompCode == "1000" and res.Customeraddress.Name
    res = svc.CustomerGetdetail2(Customerno="0000199999")
    assert (res.Return.Type, res.Return.Id, res.Return.Number) == ("E", "FN", "502")


def test_credit_master(sb, client):
    _, svc = client("ZFI_CREDIT_DETAIL")
    res = svc.ZfiCreditDetail(Bukrs="1000", Kkber="1000", Kunnr=FACTS["blocked_customer"])
    z = res.Zsfi013
    assert res.Return.Type is None
    assert (z.Crblb, z.Ctlpc, z.Currency, z.Klimk) == ("X", "C03", "EUR", "20,000.00")
    res = svc.ZfiCreditDetail(Bukrs="3000", Kunnr=FACTS["jpy_customer"])
    assert res.Zsfi013.Currency == "JPY" and "." not in res.Zsfi013.Klimk and res.Zsfi013.Crblb is None
    res = svc.ZfiCreditDetail(Bukrs="1000", Kunnr="0000199999")
    assert res.Return.Type == "E"


# ---------------------------------------------------------------- sales orders


def order_blocks(client, customer="0000100001", vkorg="1000"):
    _, svc = client("Z_BAPI_SALESORDER_GETLIST")
    res = svc.SalesorderGetlist(CustomerNumber=customer, SalesOrganization=vkorg, SalesOrders={})
    return {r.SdDoc: r.DlvBlock for r in rows(res.SalesOrders)}, res


def change(c, svc, order, block, take="X"):
    return svc.SalesorderChange(Salesdocument=order, OrderHeaderIn=full(c, "Bapisdh1", DlvBlock=block),
                                OrderHeaderInx=full(c, "Bapisdh1x", Updateflag="U", DlvBlock=take), Return={})


def test_salesorder_getlist(sb, client):
    blocks, res = order_blocks(client)
    assert blocks == {"0000012001": None, "0000012002": "01", "0000012003": None}
    first = [r for r in rows(res.SalesOrders) if r.SdDoc == "0000012001"]
    assert len(first) == 2 and first[0].NetValHd == Decimal("5710.00") and first[0].Currency == "EUR"
    _, res = order_blocks(client, FACTS["jpy_customer"], "3000")
    assert {r.Currency for r in rows(res.SalesOrders)} == {"JPY"}
    assert Decimal("800000") in {r.NetValHd for r in rows(res.SalesOrders)}


def test_stateful_change_visible_only_after_commit_in_same_session(sb, client):
    http = make_session()
    c, svc = client("Z_BAPI_SALESORDER_CHANGE", session=http)
    ret = rows(change(c, svc, "0000012001", "01").Return)
    assert [(r.Type, r.Id, r.Number) for r in ret] == [("S", "V4", "233"), ("S", "V1", "311")]
    assert "sap-contextid" in http.cookies and any(c.startswith("SAP_SESSIONID_SBX_100") for c in http.cookies.keys())
    assert sb.order("12001").dlv_block == "" and order_blocks(client)[0]["0000012001"] is None
    # a commit in another HTTP session commits nothing and says nothing
    _, other = client("Z_BAPI_SALESORDER_CHANGE")
    assert other.TransactionCommit(Wait="X").Type is None
    _, stateless = client("Z_BAPI_TRANSACTION_COMMIT")
    assert stateless.TransactionCommit(Wait="X").Type is None
    assert sb.order("12001").dlv_block == ""
    # the commit in the session that holds the change
    assert svc.TransactionCommit(Wait="X").Type is None
    assert sb.order("12001").dlv_block == "01" and order_blocks(client)[0]["0000012001"] == "01"
    assert len({c.session for c in sb.calls if c.service == "Z_BAPI_SALESORDER_CHANGE"}) == 2


def test_failed_commit_leaves_nothing(sb, client):
    c, svc = client("Z_BAPI_SALESORDER_CHANGE", session=make_session())
    assert rows(change(c, svc, "0000012003", "01").Return)[0].Type == "S"
    sb.fail_commit()
    ret = svc.TransactionCommit(Wait="X")
    assert (ret.Type, ret.Id, ret.Number) == ("E", "BAPI", "150")
    assert sb.order("12003").dlv_block == ""
    assert svc.TransactionCommit(Wait="X").Type is None  # rolled back: nothing left to commit
    assert sb.order("12003").dlv_block == ""


def test_rollback_and_session_end(sb, client):
    c, svc = client("Z_BAPI_SALESORDER_CHANGE", session=make_session())
    change(c, svc, "0000012003", "02")
    svc.TransactionRollback()
    svc.TransactionCommit(Wait="X")
    assert sb.order("12003").dlv_block == ""
    change(c, svc, "0000012003", "02")
    sb.end_sessions()
    svc.TransactionCommit(Wait="X")
    assert sb.order("12003").dlv_block == ""


def test_change_errors(sb, client):
    c, svc = client("Z_BAPI_SALESORDER_CHANGE", session=make_session())
    ret = rows(change(c, svc, "0000099999", "01").Return)
    assert [(r.Type, r.Id, r.Number) for r in ret] == [("E", "V1", "302"), ("E", "V4", "219")]
    assert ret[0].MessageV1 == "0000099999"
    ret = rows(change(c, svc, "0000012001", "QQ").Return)
    assert (ret[0].Type, ret[0].Id, ret[0].Number) == ("E", "00", "058")
    sb.lock_order("12001")
    ret = rows(change(c, svc, "0000012001", "01").Return)
    assert (ret[0].Id, ret[0].Number, ret[0].MessageV2) == ("V1", "042", "JSMITH")
    # without DlvBlock = 'X' in the X structure the field is not taken
    sb.unlock_order("12001")
    change(c, svc, "0000012001", "01", take="")
    svc.TransactionCommit(Wait="X")
    assert sb.order("12001").dlv_block == ""


def test_wrapper_mode(sb, client):
    c, svc = client("ZCG_SALESORDER_SET_DLV_BLOCK")
    ret = rows(svc.ZcgSalesorderSetDlvBlock(Salesdocument="0000012001", DlvBlock="01", Return={}))
    assert all(r.Type == "S" for r in ret) and sb.order("12001").dlv_block == "01"
    svc.ZcgSalesorderSetDlvBlock(Salesdocument="0000012002", DlvBlock="", Return={})
    assert sb.order("12002").dlv_block == ""
    sb.fail_commit()
    ret = rows(svc.ZcgSalesorderSetDlvBlock(Salesdocument="0000012003", DlvBlock="01", Return={}))
    assert ret[-1].Type == "E" and sb.order("12003").dlv_block == ""
    ret = rows(svc.ZcgSalesorderSetDlvBlock(Salesdocument="0000099999", DlvBlock="01", Return={}))
    assert ret[0].Type == "E" and ret[0].Number == "302"


def test_rfc_exception_fault(sb, client):
    c, svc = client("ZCG_SALESORDER_SET_DLV_BLOCK")
    sb.lock_order("12003", "MMUSTER")
    with pytest.raises(Fault) as e:
        svc.ZcgSalesorderSetDlvBlock(Salesdocument="0000012003", DlvBlock="01", Return={})
    assert (e.value.code, e.value.message) == ("soap-env:Client", "ForeignLock")
    elem = c.get_element(f"{{{MC}}}ZcgSalesorderSetDlvBlock.Exception")
    detail = elem.parse(e.value.detail[0], c.wsdl.types)
    assert detail.Name == "ForeignLock" and "MMUSTER" in detail.Text
    assert (detail.Message.ID, detail.Message.Number) == ("V1", "042")
    sb.unlock_order("12003")
    sb.raise_next("NoAuthority", "No authorization for sales organization 1000", "V1", "045")
    with pytest.raises(Fault) as e:
        svc.ZcgSalesorderSetDlvBlock(Salesdocument="0000012003", DlvBlock="01", Return={})
    assert e.value.message == "NoAuthority" and sb.order("12003").dlv_block == ""


def test_calls_are_recorded(sb, client):
    open_items(client, "0000100002")
    call = sb.calls[-1]
    assert (call.service, call.operation, call.status, call.user) == (
        "Z_BAPI_AR_ACC_GETOPENITEMS", "ArAccGetopenitems", 200, "ADMIN")  # SAP user names are upper case
    assert call.params["Customer"] == "0000100002" and call.params["Lineitems"] == []


def test_large_data_set_and_determinism():
    a = SapSandbox(data="large:3000", clock=lambda: TODAY)
    b = SapSandbox(data="large:3000", clock=lambda: TODAY)
    assert len(a.data.items) > 3000
    assert list(a.data.items) == list(b.data.items)
