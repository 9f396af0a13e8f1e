"""Odoo adapter: reads customers, invoices, orders and rates through odoo-client-lib."""

from .source import OdooSource

__all__ = ["OdooSource"]
