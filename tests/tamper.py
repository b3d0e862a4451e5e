"""Tampering with the ledger the way an attacker with database admin rights would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text


def drop_guard(engine: Engine) -> None:
    """Remove the audit trail's append-only triggers, as someone with DDL rights could."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))


def without_guard(engine: Engine, statement: str, **params: Any) -> None:
    """Run `statement` after removing the audit trail's append-only triggers."""
    drop_guard(engine)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
