"""Fixtures of the dunning tests: the Odoo sandbox on a loopback port, synced into a store; the ladder the tests
climb."""

from tests.odoo.conftest import Clock, clock, make_source, sandbox, sandbox19  # noqa: F401


def ladder(send: str = "auto", approval: str = "false", extra: str = "") -> str:
    """A reminder e-mail at 7 days past due, a demand letter at 30 (``approval``: whether it needs one)."""
    return f"""
[dunning]
send = "{send}"

[[dunning.levels]]
days = 7
channel = "email"
template = "reminder"

[[dunning.levels]]
days = 30
channel = "letter"
template = "demand"
approval = {approval}
{extra}"""
