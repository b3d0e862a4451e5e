"""Checks on what is written to the ledger; each raises an error saying what to pass instead."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from factory_agents.errors import LedgerError, ProposalNotFound
from factory_agents.ledger.models import ProposalRow
from factory_agents.ledger.views import ProposalStatus

_CURRENCY = re.compile(r"[A-Z]{3}")


def known_status(status: str) -> str:
    """The status itself if it is a proposal status; LedgerError otherwise."""
    if status not in set(ProposalStatus):
        known = ", ".join(ProposalStatus)
        raise LedgerError(f"unknown proposal status {status!r}; use one of: {known}")
    return status


def proposal_row(session: Session, proposal_id: str, *, lock: bool = False) -> ProposalRow:
    """The proposal's row (locked for this transaction if asked); ProposalNotFound if none.

    Lock it before deciding from other rows about it: on PostgreSQL two writers would otherwise
    both read the same state and both act on it (SQLite's writers are serialized anyway).
    """
    row = session.get(ProposalRow, proposal_id, with_for_update=lock, populate_existing=lock)
    if row is None:
        raise ProposalNotFound(
            f"no proposal {proposal_id!r} in the ledger; check the id "
            "(`factory-agents approvals` lists the pending ones)"
        )
    return row


def aware(value: datetime, name: str) -> datetime:
    """The time itself if timezone-aware; LedgerError if naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise LedgerError(f"{name} {value.isoformat()} is naive; pass a timezone-aware UTC time")
    return value


def money(value: Decimal, name: str) -> Decimal:
    """The amount itself if finite; LedgerError otherwise (stored exactly, to the cent)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise LedgerError(
            f"{name} {value!r} is not a finite Decimal amount; pass e.g. Decimal('12.50')"
        )
    return value


def currency(code: str) -> str:
    """The ISO 4217 code itself if it looks like one; LedgerError otherwise."""
    if not _CURRENCY.fullmatch(code):
        raise LedgerError(
            f"currency {code!r} is not an ISO 4217 code; use three capitals like 'EUR'"
        )
    return code
