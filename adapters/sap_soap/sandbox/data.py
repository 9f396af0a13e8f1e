"""Deterministic demo data of the SAP sandbox.

Everything is built from ``today`` (the sandbox clock) and fixed seeds, so two
sandboxes with the same clock hold the same data. Dates relative to ``today``
keep the ageing buckets stable whatever day the tests run.

Facts the adapter tests may rely on are listed in ``README.md`` next to this
file and in :data:`FACTS`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

COMPANY_CODES = {
    "1000": {"currency": "EUR", "name": "CreditGuard Demo GmbH", "kkber": "1000", "sales_org": "1000"},
    "3000": {"currency": "JPY", "name": "CreditGuard Demo Japan K.K.", "kkber": "3000", "sales_org": "3000"},
}
CURRENCY_DECIMALS = {"EUR": 2, "USD": 2, "JPY": 0, "GBP": 2}
# TCURV: exchange rate types of the sandbox system
RATE_TYPES = {"M": "Standard translation at average rate", "B": "Bank buying rate", "G": "Bank selling rate"}


def alpha(value: str, length: int = 10) -> str:
    """SAP ALPHA conversion (internal format): numeric values zero-padded, others upper-cased."""
    v = str(value).strip()
    return v.zfill(length) if v.isdigit() else v.upper()


@dataclass
class Customer:
    kunnr: str
    name: str
    city: str
    country: str
    street: str
    postl_code: str
    region: str = ""
    langu: str = "E"
    tel: str = ""
    company_codes: dict[str, dict] = field(default_factory=dict)  # bukrs -> {pmnttrms, clerk}
    deli_blk: str = ""
    ordr_blk: str = ""
    created: dt.date | None = None
    vat: str = ""


@dataclass
class CreditMaster:
    kunnr: str
    kkber: str
    currency: str
    limit: Decimal
    risk_category: str
    blocked: bool = False
    rep_group: str = ""
    credit_group: str = ""
    last_review: dt.date | None = None
    next_review: dt.date | None = None


@dataclass
class SalesOrder:
    vbeln: str
    sold_to: str
    sales_org: str
    doc_date: dt.date
    currency: str
    items: list[dict]
    dlv_block: str = ""
    bill_block: str = ""
    doc_type: str = "TA"
    purch_no: str = ""
    status: str = "A"  # STATUS_VB: A not processed, B partially, C completely

    @property
    def net_value(self) -> Decimal:
        return sum((i["NetValue"] for i in self.items), Decimal(0))


@dataclass(frozen=True)
class Rate:
    """One TCURR row (with the TCURF factors of its pair).

    ``rate`` follows TCURR-UKURS: positive = direct quotation (``from_factor`` units of
    ``from_curr`` cost ``rate`` × ``to_factor`` units of ``to_curr``), negative = indirect
    quotation (``to_factor`` units of ``to_curr`` cost |``rate``| × ``from_factor`` units of
    ``from_curr``).  Each factor belongs to the currency in its name.
    """

    rate_type: str
    from_curr: str
    to_curr: str
    valid_from: dt.date
    rate: Decimal
    from_factor: Decimal = Decimal(1)
    to_factor: Decimal = Decimal(1)

    @property
    def key(self) -> tuple[str, str, str, dt.date]:
        return (self.rate_type, self.from_curr, self.to_curr, self.valid_from)


@dataclass
class Data:
    today: dt.date
    customers: dict[str, Customer] = field(default_factory=dict)
    items: dict[tuple, dict] = field(default_factory=dict)      # (bukrs, year, belnr, buzei) -> item
    cleared: dict[tuple, dict] = field(default_factory=dict)
    orders: dict[str, SalesOrder] = field(default_factory=dict)
    credit: dict[tuple, CreditMaster] = field(default_factory=dict)  # (kunnr, kkber)
    rates: dict[tuple, Rate] = field(default_factory=dict)  # TCURR: (kurst, fcurr, tcurr, gdatu) -> rate
    _doc_counter: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ helpers
    def next_doc(self, prefix: str) -> str:
        n = self._doc_counter.get(prefix, 0) + 1
        self._doc_counter[prefix] = n
        return f"{prefix}{n:0{10 - len(prefix)}d}"

    def add_item(self, **kw) -> dict:
        item = make_item(self, **kw)
        self.items[item_key(item)] = item
        return item

    def add_rate(self, rate: Rate) -> Rate:
        self.rates[rate.key] = rate
        return rate

    def rates_on(self, rate_type: str, day: dt.date) -> list[Rate]:
        """Per currency pair of ``rate_type``, the row valid on ``day`` (latest ``valid_from`` <= day)."""
        current: dict[tuple[str, str], Rate] = {}
        for rate in self.rates.values():
            if rate.rate_type != rate_type or rate.valid_from > day:
                continue
            pair = (rate.from_curr, rate.to_curr)
            if pair not in current or current[pair].valid_from < rate.valid_from:
                current[pair] = rate
        return [current[pair] for pair in sorted(current)]


def item_key(item: dict) -> tuple:
    return (item["CompCode"], item["FiscYear"], item["DocNo"], item["ItemNum"])


def make_item(data: Data, *, bukrs: str, kunnr: str, amount, days_ago: int = 0, posted: dt.date | None = None,
              kind: str = "invoice", currency: str | None = None, lc_amount=None, netterms: int = 30,
              dsct_days1: int = 0, dsct_pct1: str = "0", pmnttrms: str | None = None, inv_ref: dict | None = None,
              baseline: dt.date | None | str = "default", text: str = "", doc_no: str | None = None,
              item_num: str = "001", dunn_level: int = 0, last_dunn: dt.date | None = None) -> dict:
    """One BSID line in Bapi30072 field names (dates as ``date``, ``None`` = initial)."""
    loc = COMPANY_CODES[bukrs]["currency"]
    cur = currency or loc
    posted = posted or (data.today - dt.timedelta(days=days_ago))
    amount = Decimal(str(amount))
    lc = Decimal(str(lc_amount)) if lc_amount is not None else amount
    spec = {
        # kind: doc type, posting key, debit/credit, special G/L, prefix
        "invoice": ("RV", "01", "S", "", "90"),
        "credit_memo": ("DG", "11", "H", "", "16"),
        "payment": ("DZ", "15", "H", "", "14"),
        "down_payment": ("DZ", "19", "H", "A", "14"),
        "debit_memo": ("DR", "01", "S", "", "18"),
    }[kind]
    doc_type, post_key, shkzg, umskz, prefix = spec
    belnr = doc_no or data.next_doc(prefix)
    bill_doc = belnr if kind == "invoice" else ""
    if baseline == "default":
        baseline = posted
    if kind in ("payment", "down_payment"):
        netterms = 0
    terms = pmnttrms if pmnttrms is not None else ("" if kind in ("payment", "down_payment")
                                                      else {30: "ZB30", 14: "ZB14", 60: "ZB60", 0: "0001"}.get(
                                                          netterms, "ZB30"))
    return {
        "CompCode": bukrs, "Customer": kunnr, "SpGlInd": umskz, "ClearDate": None, "ClrDocNo": "",
        "AllocNmbr": (inv_ref or {}).get("DocNo", belnr) if kind != "down_payment" else "ANZAHLUNG",
        "FiscYear": f"{posted.year:04d}", "DocNo": belnr, "ItemNum": item_num,
        "PstngDate": posted, "DocDate": posted, "EntryDate": posted,
        "Currency": cur, "LocCurrcy": loc, "RefDocNo": bill_doc, "DocType": doc_type,
        "FisPeriod": f"{posted.month:02d}", "PostKey": post_key, "DbCrInd": shkzg, "BusArea": "",
        "TaxCode": "A1" if kind in ("invoice", "credit_memo", "debit_memo") else "",
        "LcAmount": lc, "AmtDoccur": amount, "LcTax": Decimal(0), "TxDocCur": Decimal(0),
        "ItemText": text, "BlineDate": baseline, "Pmnttrms": terms,
        "DsctDays1": Decimal(dsct_days1), "DsctDays2": Decimal(0), "Netterms": Decimal(netterms),
        "DsctPct1": Decimal(dsct_pct1), "DsctPct2": Decimal(0),
        "DiscBase": amount if dsct_days1 else Decimal(0),
        "InvRef": (inv_ref or {}).get("DocNo", ""), "InvYear": (inv_ref or {}).get("FiscYear", "0000"),
        "InvItem": (inv_ref or {}).get("ItemNum", "000"),
        "LastDunn": last_dunn, "DunnLevel": str(dunn_level), "DocStatus": "",
        "ObjType": "VBRK" if kind == "invoice" else "BKPF", "RefDoc": bill_doc, "BillDoc": bill_doc,
        "RefDocNoLong": bill_doc, "SpGlType": "", "NegPostng": "",
    }


CITIES = [
    ("DE", "Stuttgart", "70173", "Königstraße"), ("DE", "Hamburg", "20095", "Mönckebergstraße"),
    ("AT", "Wien", "1010", "Graben"), ("FR", "Lyon", "69002", "Rue de la République"),
    ("NL", "Rotterdam", "3011", "Coolsingel"), ("IT", "Milano", "20121", "Via Dante"),
    ("ES", "Barcelona", "08002", "Passeig de Gràcia"), ("BE", "Antwerpen", "2000", "Meir"),
]
NAMES = [
    "Müller Maschinenbau GmbH", "Nordlicht Handels AG", "Schwarzwald Präzision KG", "Alpen Logistik GmbH",
    "Rheinmetall Zulieferer GmbH", "Atelier Lumière SARL", "Van Dijk Techniek B.V.", "Officine Rossi S.p.A.",
    "Construcciones Ebro S.L.", "Brabant Verpakking NV", "Hansa Elektro GmbH", "Donau Kunststoff GmbH",
    "Bodensee Optik AG", "Elbe Chemie GmbH", "Weser Stahlbau GmbH", "Pfalz Weinhandel eG",
    "Saale Antriebstechnik GmbH", "Main Druckerei GmbH", "Isar Medizintechnik GmbH", "Lech Holzwerke KG",
    "Mosel Glas GmbH", "Ems Fördertechnik GmbH", "Havel Solar GmbH", "Spree Software GmbH",
    "Ruhr Armaturen GmbH",
]
JP_NAMES = ["Tanaka Seiki K.K.", "Osaka Denki Co., Ltd.", "Nagoya Koki K.K.", "Sapporo Foods K.K.",
            "Fukuoka Kasei Co., Ltd."]
JP_CITIES = [("JP", "Tokyo", "100-0005", "Marunouchi 1-1", "13"), ("JP", "Osaka", "530-0001", "Umeda 2-4", "27"),
             ("JP", "Nagoya", "450-0002", "Meieki 3-1", "23"), ("JP", "Sapporo", "060-0001", "Kita 1 Nishi", "01"),
             ("JP", "Fukuoka", "810-0001", "Tenjin 2-5", "40")]


FACTS = {
    "company_codes": {"1000": "EUR", "3000": "JPY"},
    "customers_1000": [f"{100000 + n:010d}" for n in range(1, 26)],
    "customers_3000": [f"{100000 + n:010d}" for n in range(26, 31)],
    "blocked_customer": "0000100003",
    "no_open_items_customer": "0000100004",
    "unknown_customer": "0000199999",
    "jpy_customer": "0000100026",
    "rate_types": ("M", "B", "G"),
}


def months_back(today: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months before ``today``'s month."""
    index = today.year * 12 + today.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


# TCURR history, most recent month first (cycled for older months); realistic 2023/2024 levels
USD_EUR_INDIRECT = ["1.07150", "1.08130", "1.08540", "1.07820", "1.09130", "1.08870", "1.09450", "1.08040",
                    "1.06920", "1.05960", "1.06510", "1.07930", "1.08870", "1.09750", "1.08610", "1.07350"]
USD_JPY = ["160.8800", "157.2100", "155.9700", "151.3400", "150.1600", "148.5200", "141.8300", "147.6200",
           "150.8100", "149.5800", "147.2700", "144.5900", "141.3200", "138.7700", "136.4600", "134.2100"]
GBP_EUR_QUARTERLY = ["1.18020", "1.16850", "1.15490", "1.15320", "1.16640", "1.15010"]
GBP_USD_QUARTERLY = ["1.26470", "1.27110", "1.26830", "1.22420", "1.26580", "1.24110"]


def build_rates(d: Data, today: dt.date) -> None:
    """TCURR for rate types M, B, G relative to ``today``.

    M: USD→EUR indirect (1 EUR = x USD, as the ECB quotes), JPY→EUR direct per 100 JPY (factors 100:1),
    USD→JPY direct, monthly for 16 months; GBP→EUR and GBP→USD quarterly.  B / G: USD→EUR bank
    buying / selling rates for the last two months.
    """
    one, hundred = Decimal(1), Decimal(100)
    for n in range(16):
        day = months_back(today, n)
        usd_per_eur, jpy_per_usd = Decimal(USD_EUR_INDIRECT[n]), Decimal(USD_JPY[n])
        eur_per_100_jpy = (hundred / (usd_per_eur * jpy_per_usd)).quantize(Decimal("0.00001"))  # cross rate
        d.add_rate(Rate("M", "USD", "EUR", day, -usd_per_eur))
        d.add_rate(Rate("M", "JPY", "EUR", day, eur_per_100_jpy, hundred, one))
        d.add_rate(Rate("M", "USD", "JPY", day, jpy_per_usd))
    quarters = [months_back(today, n) for n in range(18) if months_back(today, n).month in (1, 4, 7, 10)]
    for day, gbp_eur, gbp_usd in zip(quarters, GBP_EUR_QUARTERLY, GBP_USD_QUARTERLY):
        d.add_rate(Rate("M", "GBP", "EUR", day, Decimal(gbp_eur)))
        d.add_rate(Rate("M", "GBP", "USD", day, Decimal(gbp_usd)))
    for n in range(2):
        middle = Decimal(USD_EUR_INDIRECT[n])
        d.add_rate(Rate("B", "USD", "EUR", months_back(today, n), -(middle + Decimal("0.00500"))))
        d.add_rate(Rate("G", "USD", "EUR", months_back(today, n), -(middle - Decimal("0.00500"))))


def _order(data: Data, kunnr: str, bukrs: str, days_ago: int, lines: list[tuple[str, str, str, str]],
           dlv_block: str = "", status: str = "A") -> SalesOrder:
    cc = COMPANY_CODES[bukrs]
    n = len(data.orders) + 1
    vbeln = f"{12000 + n:010d}"
    cur = cc["currency"]
    q = Decimal(1) if CURRENCY_DECIMALS[cur] == 0 else Decimal("0.01")
    items = []
    for pos, (mat, text, qty, price) in enumerate(lines, start=1):
        qty_d, price_d = Decimal(qty), Decimal(price)
        items.append({"ItmNumber": f"{pos * 10:06d}", "Material": mat, "ShortText": text, "ReqQty": qty_d,
                      "NetPrice": price_d, "NetValue": (qty_d * price_d).quantize(q), "BaseUom": "ST",
                      "SalesUnit": "ST"})
    so = SalesOrder(vbeln=vbeln, sold_to=kunnr, sales_org=cc["sales_org"],
                    doc_date=data.today - dt.timedelta(days=days_ago), currency=cur, items=items,
                    dlv_block=dlv_block, purch_no=f"PO-{kunnr[-4:]}-{n:03d}", status=status)
    data.orders[vbeln] = so
    return so


def _more_customers(d: Data, today: dt.date, count: int) -> None:
    """``count`` more customers of company code 1000 (numbers from 0000200001), each with a credit master:
    a customer list longer than any page."""
    for n in range(1, count + 1):
        kunnr = f"{200000 + n:010d}"
        country, city, plz, street = CITIES[n % len(CITIES)]
        d.customers[kunnr] = Customer(
            kunnr=kunnr, name=f"{NAMES[n % len(NAMES)]} {n}", city=city, country=country, street=f"{street} {n}",
            postl_code=plz, langu="E", company_codes={"1000": {"pmnttrms": "ZB30", "clerk": "01"}},
            created=today - dt.timedelta(days=100 + n % 900), vat=f"{country}{200000000 + n}")
        d.credit[(kunnr, "1000")] = CreditMaster(
            kunnr=kunnr, kkber="1000", currency="EUR", limit=Decimal(10000 * (1 + n % 9)), risk_category="A01",
            rep_group="001", credit_group="0001", last_review=today - dt.timedelta(days=n % 300), next_review=None)


def build_demo(today: dt.date, large: int = 0) -> Data:
    d = Data(today=today)
    # ---------------------------------------------------------------- customers
    for n in range(1, 26):
        kunnr = f"{100000 + n:010d}"
        country, city, plz, street = CITIES[(n - 1) % len(CITIES)]
        d.customers[kunnr] = Customer(
            kunnr=kunnr, name=NAMES[n - 1], city=city, country=country, street=f"{street} {n}", postl_code=plz,
            langu="D" if country in ("DE", "AT") else "E", tel=f"+49 711 {4000 + n}",
            company_codes={"1000": {"pmnttrms": "ZB30", "clerk": "01"}},
            created=today - dt.timedelta(days=2000 - n * 17), vat=f"{country}{123456780 + n}")
    for i, n in enumerate(range(26, 31)):
        kunnr = f"{100000 + n:010d}"
        country, city, plz, street, region = JP_CITIES[i]
        d.customers[kunnr] = Customer(
            kunnr=kunnr, name=JP_NAMES[i], city=city, country=country, street=street, postl_code=plz, region=region,
            langu="J", tel=f"+81 3 {5500 + n}", company_codes={"3000": {"pmnttrms": "ZB30", "clerk": "J1"}},
            created=today - dt.timedelta(days=900 + n))
    d.customers["0000100007"].deli_blk = "01"  # central delivery block on the customer master

    # ---------------------------------------------------------------- credit master (KNKK)
    risk = ["A01", "A01", "B02", "A01", "B02", "C03"]
    for n in range(1, 31):
        kunnr = f"{100000 + n:010d}"
        bukrs = "1000" if n <= 25 else "3000"
        kkber = COMPANY_CODES[bukrs]["kkber"]
        cur = COMPANY_CODES[bukrs]["currency"]
        limit = Decimal(50000 + (n % 5) * 25000) if cur == "EUR" else Decimal(5000000 + (n % 3) * 2500000)
        d.credit[(kunnr, kkber)] = CreditMaster(
            kunnr=kunnr, kkber=kkber, currency=cur, limit=limit, risk_category=risk[n % len(risk)],
            rep_group="001", credit_group="0001", last_review=today - dt.timedelta(days=200 + n),
            next_review=None if n % 4 == 0 else today + dt.timedelta(days=165 - n))
    d.credit[("0000100003", "1000")].blocked = True
    d.credit[("0000100003", "1000")].risk_category = "C03"
    d.credit[("0000100003", "1000")].limit = Decimal(20000)
    d.credit[("0000100001", "1000")].limit = Decimal(100000)
    d.credit[("0000100001", "1000")].risk_category = "A01"

    # ---------------------------------------------------------------- exchange rates (TCURR)
    build_rates(d, today)

    # ---------------------------------------------------------------- open items, curated
    c1 = "0000100001"
    inv_a = d.add_item(bukrs="1000", kunnr=c1, amount="11900.00", days_ago=10, text="Invoice current")
    d.add_item(bukrs="1000", kunnr=c1, amount="5950.00", days_ago=45, dunn_level=1,
               last_dunn=today - dt.timedelta(days=8))
    inv_c = d.add_item(bukrs="1000", kunnr=c1, amount="23800.00", days_ago=75, dunn_level=2,
                       last_dunn=today - dt.timedelta(days=20))
    d.add_item(bukrs="1000", kunnr=c1, amount="4165.00", days_ago=130, dunn_level=3,
               last_dunn=today - dt.timedelta(days=30))
    d.add_item(bukrs="1000", kunnr=c1, amount="2500.00", currency="USD", lc_amount="2312.50", days_ago=20,
               text="Invoice in USD")
    d.add_item(bukrs="1000", kunnr=c1, amount="1190.00", days_ago=30, kind="credit_memo", inv_ref=inv_c,
               text="Credit memo for returned goods")
    d.add_item(bukrs="1000", kunnr=c1, amount="3000.00", days_ago=5, kind="payment", text="Payment on account")
    d.add_item(bukrs="1000", kunnr=c1, amount="10000.00", days_ago=60, kind="down_payment",
               text="Down payment received")
    del inv_a
    d.add_item(bukrs="1000", kunnr="0000100002", amount="8330.00", days_ago=3, netterms=14, dsct_days1=7,
               dsct_pct1="2.000")
    for days, amt in ((95, "14280.00"), (120, "9520.00"), (40, "3570.00")):
        d.add_item(bukrs="1000", kunnr="0000100003", amount=amt, days_ago=days, dunn_level=2,
                   last_dunn=today - dt.timedelta(days=15))
    # 0000100004: no open items
    d.add_item(bukrs="1000", kunnr="0000100005", amount="476.00", days_ago=15, kind="payment", baseline=None,
               text="Payment on account, no baseline date")
    d.add_item(bukrs="1000", kunnr="0000100005", amount="2380.00", days_ago=35)

    # JPY: company code 3000
    j1 = "0000100026"
    d.add_item(bukrs="3000", kunnr=j1, amount="1250000", days_ago=12)
    jinv = d.add_item(bukrs="3000", kunnr=j1, amount="3300000", days_ago=50)
    d.add_item(bukrs="3000", kunnr=j1, amount="880000", days_ago=100)
    d.add_item(bukrs="3000", kunnr=j1, amount="110000", days_ago=20, kind="credit_memo", inv_ref=jinv)
    d.add_item(bukrs="3000", kunnr=j1, amount="500000", days_ago=40, kind="down_payment")

    # ---------------------------------------------------------------- open items, generated
    rng = random.Random(20240630)
    for n in list(range(6, 26)) + list(range(27, 31)):
        kunnr = f"{100000 + n:010d}"
        bukrs = "1000" if n <= 25 else "3000"
        jpy = bukrs == "3000"
        for _ in range(rng.randint(0, 5)):
            days = rng.choice([2, 8, 15, 25, 35, 50, 70, 95, 140, 200])
            amt = Decimal(rng.randint(100, 4000) * (1000 if jpy else 5)) if jpy else \
                Decimal(rng.randint(5000, 2500000)) / 100
            kind = rng.choices(["invoice", "credit_memo", "payment"], [8, 1, 1])[0]
            d.add_item(bukrs=bukrs, kunnr=kunnr, amount=amt, days_ago=days, kind=kind,
                       netterms=rng.choice([14, 30, 30, 60]))
    if large:
        _more_customers(d, today, large // 20)
        kunnrs = sorted(d.customers)
        for i in range(large):
            kunnr = kunnrs[i % len(kunnrs)]
            bukrs = next(iter(d.customers[kunnr].company_codes))
            jpy = bukrs == "3000"
            amt = Decimal(rng.randint(100, 4000) * 1000) if jpy else Decimal(rng.randint(1000, 500000)) / 100
            d.add_item(bukrs=bukrs, kunnr=kunnr, amount=amt, days_ago=rng.randint(0, 400),
                       kind=rng.choices(["invoice", "credit_memo", "payment"], [8, 1, 1])[0])

    # ---------------------------------------------------------------- sales orders
    _order(d, c1, "1000", 4, [("M-100", "Hydraulic pump HP-100", "4", "1250.00"),
                              ("M-200", "Seal kit", "20", "35.50")])
    _order(d, c1, "1000", 12, [("M-300", "Control unit CU-3", "2", "4800.00")], dlv_block="01")
    _order(d, c1, "1000", 1, [("M-100", "Hydraulic pump HP-100", "1", "1250.00")])
    _order(d, "0000100002", "1000", 2, [("M-400", "Spare parts set", "10", "89.90")])
    _order(d, "0000100003", "1000", 6, [("M-300", "Control unit CU-3", "5", "4800.00")], dlv_block="01")
    _order(d, "0000100003", "1000", 3, [("M-200", "Seal kit", "100", "35.50")])
    _order(d, j1, "3000", 5, [("M-100", "Hydraulic pump HP-100", "3", "180000"),
                              ("M-200", "Seal kit", "50", "5200")])
    _order(d, j1, "3000", 9, [("M-300", "Control unit CU-3", "1", "690000")], dlv_block="01")
    for n in range(6, 26):
        kunnr = f"{100000 + n:010d}"
        for _ in range(rng.randint(0, 2)):
            _order(d, kunnr, "1000", rng.randint(0, 30),
                   [("M-400", "Spare parts set", str(rng.randint(1, 40)), "89.90")],
                   dlv_block="01" if rng.random() < 0.15 else "")
    return d
