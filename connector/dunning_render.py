"""Dunning letters and reminders rendered from Jinja2 templates, in the customer's language.

Templates are HTML files named ``<template>.<lang>.html`` (``reminder.fr.html``), looked up in the policy's
``[dunning] templates_dir`` first, then among the shipped ones (``connector/templates/dunning``); a language without
its own file falls back to its primary language (``fr_BE`` → ``fr``), then to English.  The template sets
``subject`` and receives the open items already formatted: amounts with the currency's precision in the
customer's locale (babel, from ``Decimal``: never a float), dates in the locale's long format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from .errors import ConfigError
from .money import quantize

SHIPPED = Path(__file__).resolve().parent / "templates" / "dunning"
FALLBACK = "en"


@dataclass(frozen=True, slots=True)
class LetterItem:
    """One overdue open item as the letter lists it."""

    number: str
    due_date: date
    days: int  # days past due on the letter's day
    amount: Decimal  # open, document currency
    currency: str


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    html: str
    lang: str  # the language actually used (the fallback when the customer's has no template)
    template: str


def languages(lang: str | None) -> list[str]:
    """``fr_BE`` → ``["fr_BE", "fr", "en"]``: the template languages to try, in order."""
    tried: list[str] = []
    if lang:
        norm = lang.replace("-", "_")
        tried += [norm, norm.split("_")[0].lower()]
    tried.append(FALLBACK)
    return list(dict.fromkeys(tried))


def _dirs(templates_dir: str | None) -> list[Path]:
    return [Path(templates_dir), SHIPPED] if templates_dir else [SHIPPED]


def find_template(name: str, lang: str | None, templates_dir: str | None = None) -> tuple[Path, str]:
    for code in languages(lang):
        for folder in _dirs(templates_dir):
            path = folder / f"{name}.{code}.html"
            if path.is_file():
                return path, code
    raise ConfigError(f"dunning template {name!r}: no {name}.{FALLBACK}.html in "
                      f"{', '.join(str(d) for d in _dirs(templates_dir))}")


def format_money(amount: Decimal, currency: str, lang: str) -> str:
    """``1234.5 EUR`` → ``€1,234.50`` (en), ``1 234,50 €`` (fr): the currency's precision, exactly."""
    from babel.core import UnknownLocaleError
    from babel.numbers import format_currency

    value = quantize(amount, currency)
    try:
        return format_currency(value, currency, locale=lang, currency_digits=True)
    except (UnknownLocaleError, ValueError):
        return format_currency(value, currency, locale="en", currency_digits=True)


def format_day(day: date, lang: str) -> str:
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    try:
        return format_date(day, format="long", locale=lang)
    except (UnknownLocaleError, ValueError):
        return format_date(day, format="long", locale="en")


def totals(items: Sequence[LetterItem]) -> dict[str, Decimal]:
    """What is open per currency (several currencies are never added together)."""
    sums: dict[str, Decimal] = {}
    for item in items:
        sums[item.currency] = sums.get(item.currency, Decimal(0)) + item.amount
    return {currency: quantize(total, currency) for currency, total in sorted(sums.items())}


def render_letter(name: str, lang: str | None, *, customer: str, as_of: date, items: Sequence[LetterItem],
                  disputed: tuple[Decimal, str] | None = None, templates_dir: str | None = None) -> Letter:
    """The letter of template ``name`` for ``customer``, with its overdue ``items``."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    path, code = find_template(name, lang, templates_dir)
    locale = lang.replace("-", "_") if lang and code != FALLBACK else code
    env = Environment(loader=FileSystemLoader(str(path.parent)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    template = env.get_template(path.name)
    context = {
        "customer": customer,
        "as_of": format_day(as_of, locale),
        "items": [{"number": i.number, "due_date": format_day(i.due_date, locale), "days": i.days,
                   "amount": format_money(i.amount, i.currency, locale), "currency": i.currency} for i in items],
        "totals": [format_money(v, c, locale) for c, v in totals(items).items()],
        "disputed": format_money(disputed[0], disputed[1], locale) if disputed and disputed[0] > 0 else None,
    }
    html = template.render(context)
    subject = str(getattr(template.make_module(context), "subject", "") or name)
    return Letter(subject=subject, html=html.strip(), lang=code, template=name)
