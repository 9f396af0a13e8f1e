"""odoo._ (module-level gettext) and the catalog the tests may fill.

``CATALOG`` maps a msgid to its translation; every call is recorded in ``CALLS``
so the tests can check that user-facing strings go through ``_()``.
"""

CATALOG: dict[str, str] = {}
CALLS: list[str] = []


def translate(source, *args, **kwargs):
    assert not (args and kwargs), "Odoo's _() takes positional or named placeholders, not both"
    CALLS.append(source)
    translation = CATALOG.get(source, source)
    if args or kwargs:
        return translation % (args or kwargs)
    return translation


def _(source, *args, **kwargs):
    return translate(source, *args, **kwargs)
