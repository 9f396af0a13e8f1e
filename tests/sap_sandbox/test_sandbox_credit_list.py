"""ZCG_CREDIT_LIST of the SAP sandbox: the list variant of ZFI_CREDIT_DETAIL, with zeep (strict) on its WSDL."""

from __future__ import annotations

import copy

import pytest
import zeep.helpers
from lxml import etree

from adapters.sap_soap.sandbox import FACTS, SERVICES, WSDL_DIR
from adapters.sap_soap.sandbox.schema import Schema

from .conftest import make_session
from .test_sandbox_rates import SOAP11, wsdl_schema

SERVICE = "ZCG_CREDIT_LIST"
ALL = ("0000100001", "0000100030")


def kunnr_range(first: str, last: str) -> dict:
    return {"item": [{"Sign": "I", "Option": "BT", "Low": first, "High": last}]}


def credit_list(client, first=ALL[0], last=ALL[1], soap12=False, **params):
    params.setdefault("Bukrs", "1000")
    _, svc = client(SERVICE, strict=True, soap12=soap12)
    return svc.ZcgCreditList(Kunnr=kunnr_range(first, last), Zsfi013={}, **params)


def items(table) -> list:
    return list(table.item) if table is not None and table.item else []


def numbers(result) -> list[str]:
    return [row.Kunnr for row in items(result.Zsfi013)]


# ---------------------------------------------------------------- the WSDL


def test_rows_are_the_zsfi013_of_the_real_zfi_credit_detail_export():
    """Same field names, order and simple types (char25 text amounts…) as the real export's structure."""
    ours, real = Schema(WSDL_DIR / SERVICES[SERVICE]), Schema(WSDL_DIR / SERVICES["ZFI_CREDIT_DETAIL"])
    for structure in ("Zsfi013", "Bapireturn1"):
        assert [(e.name, ours.simple_type(e)) for e in ours.complex[structure]] == \
            [(e.name, real.simple_type(e)) for e in real.complex[structure]], structure
    assert len(ours.complex["Zsfi013"]) == 26


def test_signature():
    schema = Schema(WSDL_DIR / SERVICES[SERVICE])
    request = [(e.name, e.type, e.optional) for e in schema.elements["ZcgCreditList"]]
    assert request == [("Bukrs", "char4", False), ("Kkber", "char4", True),
                       ("Kunnr", "TableOfBapicustomerIdrange", False), ("Maxrows", "int", True),
                       ("Zsfi013", "TableOfZsfi013", False)]
    response = [(e.name, e.type) for e in schema.elements["ZcgCreditListResponse"]]
    assert response == [("Kunnr", "TableOfBapicustomerIdrange"), ("Return", "Bapireturn1"),
                        ("Zsfi013", "TableOfZsfi013")]
    ours, getlist = Schema(WSDL_DIR / SERVICES[SERVICE]), Schema(WSDL_DIR / SERVICES["Z_BAPI_CUSTOMER_GETLIST"])
    assert [(e.name, ours.simple_type(e)) for e in ours.complex["BapicustomerIdrange"]] == \
        [(e.name, getlist.simple_type(e)) for e in getlist.complex["BapicustomerIdrange"]]


# ---------------------------------------------------------------- the answers


@pytest.mark.parametrize("company_code", ["1000", "3000"])
def test_rows_are_those_of_zfi_credit_detail_for_every_demo_customer(sb, client, company_code):
    listed = {row.Kunnr: zeep.helpers.serialize_object(row, dict)
              for row in items(credit_list(client, Bukrs=company_code).Zsfi013)}
    assert list(listed) == FACTS[f"customers_{company_code}"]  # ascending; the others have no credit master here
    _, detail = client("ZFI_CREDIT_DETAIL", strict=True)
    for customer in sb.data.customers:
        one = detail.ZfiCreditDetail(Bukrs=company_code, Kunnr=customer)
        if one.Return.Type == "E":
            assert customer not in listed
        else:
            assert listed[customer] == zeep.helpers.serialize_object(one.Zsfi013, dict), customer


def test_range_maxrows_and_credit_control_area(sb, client):
    assert numbers(credit_list(client, "0000100020", "0000100027")) == [f"00001000{n}" for n in range(20, 26)]
    assert numbers(credit_list(client, "0000100020", "0000100027", Maxrows=3)) == \
        ["0000100020", "0000100021", "0000100022"]
    # Kkber given: that area, whatever the company code's
    assert numbers(credit_list(client, "0000100020", "0000100027", Kkber="3000")) == ["0000100026", "0000100027"]
    del sb.data.credit[("0000100021", "1000")]
    assert numbers(credit_list(client, "0000100020", "0000100022")) == ["0000100020", "0000100022"]
    nothing = credit_list(client, "0000199990", "0000199999")
    assert numbers(nothing) == [] and nothing.Return.Type is None


def test_without_credit_control_area_a_return_error(sb, client):
    result = credit_list(client, Bukrs="9999")
    assert (result.Return.Type, result.Return.Id, result.Return.Number) == ("E", "ZCG", "001")
    assert numbers(result) == []


def test_soap12_port(sb, client):
    result = credit_list(client, "0000100001", "0000100003", soap12=True)
    assert numbers(result) == ["0000100001", "0000100002", "0000100003"] and sb.calls[-1].soap_version == "1.2"
    assert (sb.calls[-1].service, sb.calls[-1].operation) == (SERVICE, "ZcgCreditList")


def test_answers_validate_against_the_wsdl_schema(sb, client):
    zeep_client, svc = client(SERVICE)
    message = zeep_client.create_message(svc, "ZcgCreditList", Bukrs="1000", Kunnr=kunnr_range(*ALL), Maxrows=5,
                                         Zsfi013={})
    response = make_session().post(sb.endpoint(SERVICE), data=etree.tostring(message), timeout=10,
                                   headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 200, response.text
    body = etree.fromstring(response.content).find(f"{{{SOAP11}}}Body")[0]
    assert etree.QName(body).localname == "ZcgCreditListResponse"
    wsdl_schema(SERVICE).assertValid(etree.ElementTree(copy.deepcopy(body)))
    rows = body.find("Zsfi013").findall("item")
    assert len(rows) == 5 and rows[0].findtext("Klimk") == "100,000.00"
