"""CreditGuard core: domain model, store, sync engine.

Nothing in this package talks to an ERP directly: adapters implement the
ports in :mod:`connector.ports` and hand back the plain types of
:mod:`connector.domain`.
"""
