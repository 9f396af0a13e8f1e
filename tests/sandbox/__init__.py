"""Tests of the Odoo sandbox (adapters/odoo/sandbox)."""
