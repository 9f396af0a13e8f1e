"""The Jinja2 environment of the dashboard and the report: templates shipped as package data, autoescaped."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from connector.money import UnknownCurrency, quantize


def money(value: Any, currency: str | None = None) -> str:
    """``1234.5`` → ``1,234.50`` (to the currency's precision); None → ``–``.  Formatting only."""
    if value is None or value == "":
        return "–"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if currency:
        try:
            amount = quantize(amount, currency)
        except UnknownCurrency:
            pass
    return f"{amount:,}"


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return resources.files("creditguard.ui").joinpath("static/dashboard.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("creditguard.ui", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = money
    env.globals["css"] = Markup(stylesheet())  # our own file, put raw into <style> (no entity there)
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
