"""BAPI_EXCHRATE_GETCURRENTRATES of the SAP sandbox, with zeep (strict) and the WSDL's own schema."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest
import requests
from lxml import etree

from adapters.sap_soap.sandbox import SERVICES, WSDL_DIR
from adapters.sap_soap.sandbox.data import months_back

from .conftest import TODAY, make_session

SERVICE = "Z_BAPI_EXCHRATE_GETCURRENTRATES"
MC = "urn:sap-com:document:sap:soap:functions:mc-style"
RFC = "urn:sap-com:document:sap:rfc:functions"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def rates(client, soap12=False, **params):
    params.setdefault("ExchRateList", {})
    params.setdefault("Return", {})
    _, svc = client(SERVICE, strict=True, soap12=soap12)
    return svc.ExchrateGetcurrentrates(**params)


def items(table):
    return list(table.item) if table is not None and table.item else []


def pairs(result):
    return {(r.FromCurr, r.ToCurrncy): r for r in items(result.ExchRateList)}


def test_rates_valid_on_the_key_date(sb, client):
    result = pairs(rates(client, Date=TODAY.isoformat(), RateType="M"))
    this_month = months_back(TODAY, 0)
    assert set(result) == {("USD", "EUR"), ("JPY", "EUR"), ("USD", "JPY"), ("GBP", "EUR"), ("GBP", "USD")}
    jpy = result[("JPY", "EUR")]
    assert (jpy.RateType, jpy.ValidFrom, jpy.FromFactor, jpy.ToFactor) == ("M", this_month.isoformat(), 100, 1)
    assert isinstance(jpy.ExchRate, Decimal) and Decimal("0.5") < jpy.ExchRate < Decimal("0.8")
    assert jpy.ExchRateV == 0  # direct quotation
    usd = result[("USD", "EUR")]
    assert usd.ExchRate == 0 and Decimal("1") < usd.ExchRateV < Decimal("1.2")  # indirect: 1 EUR = x USD
    assert (usd.FromFactorV, usd.ToFactorV) == (1, 1)
    assert result[("GBP", "EUR")].ValidFrom == dt.date(2024, 4, 1).isoformat()  # quarterly: April's row


def test_history_is_the_latest_row_on_or_before_the_date(sb, client):
    last_month = months_back(TODAY, 1)
    on_first = pairs(rates(client, Date=months_back(TODAY, 0).isoformat()))  # RateType left out: M
    before = pairs(rates(client, Date=(months_back(TODAY, 0) - dt.timedelta(days=1)).isoformat()))
    assert on_first[("USD", "EUR")].ValidFrom == months_back(TODAY, 0).isoformat()
    assert before[("USD", "EUR")].ValidFrom == last_month.isoformat()
    assert before[("USD", "EUR")].ExchRateV != on_first[("USD", "EUR")].ExchRateV
    stored = sb.data.rates[("M", "USD", "EUR", last_month)]
    assert before[("USD", "EUR")].ExchRateV == -stored.rate
    assert items(rates(client, Date="1999-01-01").ExchRateList) == []


def test_currency_ranges(sb, client):
    only_usd = rates(client, Date=TODAY.isoformat(), FromCurrRange={"item": [
        {"Sign": "", "Option": "", "Low": "USD", "High": ""}]})
    assert set(pairs(only_usd)) == {("USD", "EUR"), ("USD", "JPY")}
    not_to_eur = rates(client, Date=TODAY.isoformat(), ToCurrncyRange={"item": [
        {"Sign": "E", "Option": "EQ", "Low": "EUR", "High": ""}]})
    assert set(pairs(not_to_eur)) == {("USD", "JPY"), ("GBP", "USD")}
    both = rates(client, Date=TODAY.isoformat(),
                 FromCurrRange={"item": [{"Sign": "I", "Option": "CP", "Low": "G*", "High": ""}]},
                 ToCurrncyRange={"item": [{"Sign": "I", "Option": "EQ", "Low": "EUR", "High": ""}]})
    assert set(pairs(both)) == {("GBP", "EUR")}


def test_other_rate_types_and_unknown_rate_type(sb, client):
    bank = pairs(rates(client, Date=TODAY.isoformat(), RateType="B"))
    middle = pairs(rates(client, Date=TODAY.isoformat(), RateType="M"))
    assert set(bank) == {("USD", "EUR")}
    assert bank[("USD", "EUR")].RateType == "B"
    assert bank[("USD", "EUR")].ExchRateV == middle[("USD", "EUR")].ExchRateV + Decimal("0.005")
    unknown = rates(client, Date=TODAY.isoformat(), RateType="Q")
    assert items(unknown.ExchRateList) == []
    [line] = items(unknown.Return)
    assert (line.Type, line.Id, line.Number, line.MessageV1) == ("E", "ZSBX", "010", "Q")


def test_set_rate_adds_a_row_from_its_date(sb, client):
    row = sb.set_rate("JPY", "EUR", "0.61000", from_factor=100)
    assert row.valid_from == TODAY and row.rate == Decimal("0.61000")
    today = pairs(rates(client, Date=TODAY.isoformat()))[("JPY", "EUR")]
    assert (today.ValidFrom, today.ExchRate, today.FromFactor) == (TODAY.isoformat(), Decimal("0.61"), 100)
    yesterday = pairs(rates(client, Date=(TODAY - dt.timedelta(days=1)).isoformat()))[("JPY", "EUR")]
    assert yesterday.ValidFrom == months_back(TODAY, 0).isoformat()
    sb.set_rate("USD", "EUR", "1.09", indirect=True)  # replaces nothing: a new key (today)
    usd = pairs(rates(client, Date=TODAY.isoformat()))[("USD", "EUR")]
    assert (usd.ExchRate, usd.ExchRateV) == (0, Decimal("1.09"))
    sb.set_rate("USD", "EUR", "1.10", indirect=True)  # same key: replaced
    assert pairs(rates(client, Date=TODAY.isoformat()))[("USD", "EUR")].ExchRateV == Decimal("1.10")


def test_soap12_port(sb, client):
    result = rates(client, soap12=True, Date=TODAY.isoformat(), RateType="M")
    assert len(items(result.ExchRateList)) == 5 and sb.calls[-1].soap_version == "1.2"
    call = sb.calls[-1]
    assert (call.service, call.operation, call.params["RateType"]) == (SERVICE, "ExchrateGetcurrentrates", "M")


def test_bad_date_is_a_processing_error(sb):
    body = (f'<soap-env:Envelope xmlns:soap-env="{SOAP11}"><soap-env:Body>'
            f'<n0:ExchrateGetcurrentrates xmlns:n0="{MC}"><Date>30.06.2024</Date></n0:ExchrateGetcurrentrates>'
            "</soap-env:Body></soap-env:Envelope>")
    response = make_session().post(sb.endpoint(SERVICE), data=body, timeout=10,
                                   headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 500 and "Web service processing error" in response.text


# ---------------------------------------------------------------- the answer against the WSDL's schema


def wsdl_schema(service: str = SERVICE) -> etree.XMLSchema:
    """The two schemas of the WSDL as one XMLSchema (the mc-style one imports the rfc one, from memory)."""
    root = etree.parse(str(WSDL_DIR / SERVICES[service])).getroot()
    schemas = {s.get("targetNamespace"): s for s in root.iter(f"{{{XSD}}}schema")}
    resolver = _MemoryResolver({"rfc.xsd": _standalone(schemas[RFC], root)})
    parser = etree.XMLParser()
    parser.resolvers.add(resolver)
    return etree.XMLSchema(etree.fromstring(_standalone(schemas[MC], root, imports="rfc.xsd"), parser,
                                            base_url="mc.xsd"))


def _standalone(schema, root, imports: str | None = None) -> bytes:
    """A schema element of the WSDL as its own document: the WSDL root's prefixes (``tns``, ``n0``…
    used in ``type="…"`` values) declared on it, ``xsd:import`` pointing at ``imports``."""
    clone = etree.Element(schema.tag, nsmap=dict(root.nsmap) | dict(schema.nsmap), attrib=dict(schema.attrib))
    for child in schema:
        child = copy.deepcopy(child)
        if imports and child.tag == f"{{{XSD}}}import":
            child.set("schemaLocation", imports)
        clone.append(child)
    return etree.tostring(clone)


class _MemoryResolver(etree.Resolver):
    def __init__(self, documents: dict[str, bytes]):
        super().__init__()
        self.documents = documents

    def resolve(self, url, public_id, context):
        name = url.rsplit("/", 1)[-1]
        if name in self.documents:
            return self.resolve_string(self.documents[name], context)
        return None


def answer_body(sb, client, **params) -> etree._Element:
    zeep_client, svc = client(SERVICE)
    params.setdefault("ExchRateList", {})
    params.setdefault("Return", {})
    message = zeep_client.create_message(svc, "ExchrateGetcurrentrates", **params)
    response = make_session().post(sb.endpoint(SERVICE), data=etree.tostring(message), timeout=10,
                                   headers={"Content-Type": "text/xml; charset=utf-8"})
    assert response.status_code == 200, response.text
    envelope = etree.fromstring(response.content)
    return envelope.find(f"{{{SOAP11}}}Body")[0]


@pytest.mark.parametrize("rate_type", ["M", "B", "Q"])
def test_answers_validate_against_the_wsdl_schema(sb, client, rate_type):
    schema = wsdl_schema()
    body = answer_body(sb, client, Date=TODAY.isoformat(), RateType=rate_type)
    assert etree.QName(body).localname == "ExchrateGetcurrentratesResponse"
    schema.assertValid(etree.ElementTree(copy.deepcopy(body)))
    # every BAPI1093_0 field is there, in DDIC order, numbers in the WSDL's format
    rows = body.find("ExchRateList").findall("item")
    assert (len(rows) > 0) == (rate_type != "Q")
    for row in rows:
        assert [c.tag for c in row] == ["RateType", "FromCurr", "ToCurrncy", "ValidFrom", "ExchRate", "FromFactor",
                                        "ToFactor", "ExchRateV", "FromFactorV", "ToFactorV"]
        assert len(row.findtext("ExchRate").split(".")[1]) == 5 and "." not in row.findtext("FromFactor")


def test_schema_check_is_not_vacuous(sb, client):
    schema = wsdl_schema()
    body = copy.deepcopy(answer_body(sb, client, Date=TODAY.isoformat()))
    body.find("ExchRateList/item/ExchRate").text = "12345.678901"  # more digits than decimal9.5 allows
    assert not schema.validate(etree.ElementTree(body))


def test_wsdl_download(sb):
    r = requests.get(sb.wsdl_url(SERVICE), auth=(sb.username, sb.password), timeout=10)
    assert r.status_code == 200 and r.text.count(f'location="{sb.endpoint(SERVICE)}"') == 2
