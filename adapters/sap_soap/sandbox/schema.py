"""Reads a SAP-generated WSDL and (de)serializes message bodies against it.

Only what SAP RFC WSDLs use: named simple types in the rfc namespace, sequences
of unqualified elements, ``TableOf…`` with ``item``. Responses are built from
the schema, so every element the WSDL declares is written, in order, with the
initial value SAP sends when the function left it empty (``<X/>`` for CHAR,
``0000-00-00`` for dates, zeros for NUMC/decimals).
"""

from __future__ import annotations

import datetime as dt
import pathlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

XSD = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_BIND = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BIND = "http://schemas.xmlsoap.org/wsdl/soap12/"
MC = "urn:sap-com:document:sap:soap:functions:mc-style"
RFC = "urn:sap-com:document:sap:rfc:functions"


class ProcessingError(Exception):
    """Conversion error while reading the request: SAP answers with a Server fault."""


@dataclass
class Elem:
    name: str
    type: str            # local name of the type
    ns: str              # namespace of the type
    optional: bool
    repeated: bool


@dataclass
class SimpleType:
    name: str
    base: str            # string | decimal | time | int | base64Binary
    max_length: int | None = None
    pattern: str | None = None
    total: int | None = None
    frac: int | None = None
    enum: tuple[str, ...] = ()


class Schema:
    def __init__(self, path: pathlib.Path):
        self.path = path
        self.raw = path.read_bytes()
        root = etree.fromstring(self.raw, etree.XMLParser(resolve_entities=False, no_network=True))
        self.simple: dict[tuple[str, str], SimpleType] = {}
        self.complex: dict[str, list[Elem]] = {}
        self.elements: dict[str, list[Elem] | str] = {}
        for schema in root.iter(f"{{{XSD}}}schema"):
            tns = schema.get("targetNamespace")
            for st in schema.findall(f"{{{XSD}}}simpleType"):
                self.simple[(tns, st.get("name"))] = self._simple(st)
            for ct in schema.findall(f"{{{XSD}}}complexType"):
                self.complex[ct.get("name")] = self._sequence(ct)
            for el in schema.findall(f"{{{XSD}}}element"):
                ct = el.find(f"{{{XSD}}}complexType")
                self.elements[el.get("name")] = self._sequence(ct) if ct is not None else self._qname(el, "type")[1]
        # services -> ports (binding, soap version, address); operations with soapAction
        self.services: dict[str, dict] = {}
        bindings = {}
        for b in root.findall(f"{{{WSDL_NS}}}binding"):
            ops = [op.get("name") for op in b.findall(f"{{{WSDL_NS}}}operation")]
            bindings[b.get("name")] = ops
        for svc in root.findall(f"{{{WSDL_NS}}}service"):
            ports = {}
            for port in svc.findall(f"{{{WSDL_NS}}}port"):
                addr = port[0] if len(port) else None
                ports[port.get("name")] = {
                    "binding": port.get("binding").split(":")[-1],
                    "soap12": addr is not None and addr.tag == f"{{{SOAP12_BIND}}}address",
                    "address": addr.get("location") if addr is not None else None,
                }
            self.services[svc.get("name")] = ports
        self.operations = sorted({op for ops in bindings.values() for op in ops})
        self.session_enabled = b"<sapsession:enableSession>true" in self.raw
        self.exceptions = {name[: -len(".Exception")] for name in self.elements if name.endswith(".Exception")}

    # ------------------------------------------------------------------ parsing the WSDL
    @staticmethod
    def _qname(el, attr):
        value = el.get(attr)
        prefix, _, local = value.rpartition(":")
        return el.nsmap.get(prefix or None), local

    def _sequence(self, ct) -> list[Elem]:
        seq = ct.find(f"{{{XSD}}}sequence")
        out = []
        for e in seq.findall(f"{{{XSD}}}element") if seq is not None else []:
            ns, local = self._qname(e, "type")
            out.append(Elem(e.get("name"), local, ns, e.get("minOccurs") == "0", e.get("maxOccurs") == "unbounded"))
        return out

    @staticmethod
    def _simple(st) -> SimpleType:
        r = st.find(f"{{{XSD}}}restriction")
        base = r.get("base").split(":")[-1]
        t = SimpleType(st.get("name"), base)
        for f in r:
            v = f.get("value")
            tag = etree.QName(f).localname
            if tag == "maxLength":
                t.max_length = int(v)
            elif tag == "pattern":
                t.pattern = v
            elif tag == "totalDigits":
                t.total = int(v)
            elif tag == "fractionDigits":
                t.frac = int(v)
            elif tag == "enumeration":
                t.enum += (v,)
        return t

    def simple_type(self, e: Elem) -> SimpleType:
        if e.ns == XSD:
            return SimpleType(e.type, e.type)
        return self.simple[(e.ns, e.type)]

    # ------------------------------------------------------------------ request -> dict
    def parse(self, el) -> dict:
        """Body element of a request -> dict (tables -> list of dicts, simple values -> str)."""
        fields = self.elements.get(etree.QName(el).localname)
        if not isinstance(fields, list):
            raise ProcessingError(f"unknown element {el.tag}")
        return self._parse_fields(el, fields)

    def _parse_fields(self, el, fields: list[Elem]) -> dict:
        by_name = {f.name: f for f in fields}
        out: dict = {}
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            f = by_name.get(name)
            if f is None:
                raise ProcessingError(f"unexpected element {name}")
            if f.type in self.complex:
                sub = self.complex[f.type]
                if len(sub) == 1 and sub[0].name == "item" and sub[0].repeated:
                    out[name] = [self._parse_fields(i, self.complex[sub[0].type]) for i in child
                                 if isinstance(i.tag, str)]
                else:
                    out[name] = self._parse_fields(child, sub)
            else:
                out[name] = self._check(child.text or "", self.simple_type(f), name)
        return out

    @staticmethod
    def _check(value: str, t: SimpleType, name: str) -> str:
        v = value.strip() if t.base != "string" else value
        if not v:
            return ""
        if t.name == "date10":
            if v != "0000-00-00":
                try:
                    dt.date.fromisoformat(v)
                except ValueError as exc:
                    raise ProcessingError(f"invalid date {v!r} in {name}") from exc
        elif t.name.startswith("numeric") and not v.isdigit():
            raise ProcessingError(f"invalid numeric {v!r} in {name}")
        elif t.base == "decimal":
            try:
                Decimal(v)
            except InvalidOperation as exc:
                raise ProcessingError(f"invalid decimal {v!r} in {name}") from exc
        elif t.base == "int" and not re.fullmatch(r"[+-]?\d+", v):
            raise ProcessingError(f"invalid int {v!r} in {name}")
        return v

    # ------------------------------------------------------------------ dict -> response
    def build(self, parent, element_name: str, values: dict):
        fields = self.elements[element_name]
        node = etree.SubElement(parent, f"{{{MC}}}{element_name}", nsmap={"n0": MC})
        self._build_fields(node, fields, values)
        return node

    def build_detail(self, parent, element_name: str, values: dict):
        """A global element of named complex type (fault detail ``<Op>.Exception``)."""
        type_name = self.elements[element_name]
        node = etree.SubElement(parent, f"{{{MC}}}{element_name}", nsmap={"n0": MC})
        self._build_fields(node, self.complex[type_name], values)
        return node

    def _build_fields(self, node, fields: list[Elem], values: dict):
        for f in fields:
            v = values.get(f.name)
            if f.type in self.complex:
                sub = self.complex[f.type]
                if v is None and f.optional:
                    continue
                child = etree.SubElement(node, f.name)
                if len(sub) == 1 and sub[0].name == "item" and sub[0].repeated:
                    for row in v or []:
                        self._build_fields(etree.SubElement(child, "item"), self.complex[sub[0].type], row)
                else:
                    self._build_fields(child, sub, v or {})
            else:
                if v is None and f.optional:
                    continue
                etree.SubElement(node, f.name).text = self.format(v, self.simple_type(f))

    @staticmethod
    def format(v, t: SimpleType) -> str | None:
        if t.name == "date10":
            if v is None or v == "":
                return "0000-00-00"
            return v.isoformat() if isinstance(v, dt.date) else str(v)
        if t.name == "time":
            if v is None or v == "":
                return "00:00:00"
            return v.strftime("%H:%M:%S") if isinstance(v, dt.time) else str(v)
        if t.name.startswith("numeric"):
            s = "" if v is None else str(v)
            return s.zfill(t.max_length) if s.isdigit() or s == "" else s
        if t.base == "decimal":
            d = Decimal(0) if v in (None, "") else Decimal(str(v))
            if t.frac:
                return str(d.quantize(Decimal(1).scaleb(-t.frac)))
            return str(d.quantize(Decimal(1)))
        if t.base == "int":
            return str(int(v or 0))
        if v is None or v == "":
            return None
        s = str(v)
        if t.max_length is not None and len(s) > t.max_length:
            s = s[: t.max_length]
        return s
