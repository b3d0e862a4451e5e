"""Ledger revisions, one module each, hand-written and reviewed."""
