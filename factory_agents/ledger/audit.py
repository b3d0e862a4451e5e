"""The append-only, hash-chained audit trail: append events and verify the chain."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from factory_agents.errors import LedgerError
from factory_agents.ledger.models import AuditEvent

GENESIS_HASH = "0" * 64
_POSTGRES_LOCK = 0x41554454
"""pg_advisory_xact_lock key serializing audit appends on PostgreSQL ("AUDT")."""


class AuditReport(BaseModel):
    """The outcome of verifying the audit chain: the problems found, each naming its seq."""

    ok: bool
    events: int
    problems: list[str]
    head_hash: str = GENESIS_HASH


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    at: datetime,
) -> AuditEvent:
    """Append one event after the chain's tail in the session's transaction (flushed)."""
    if at.tzinfo is None:
        raise LedgerError(f"audit time {at.isoformat()} is naive; pass a timezone-aware UTC time")
    clean = _json_safe(details)
    when = at.astimezone(UTC)
    serialize_writers(session)
    tail = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (tail.seq + 1, tail.hash) if tail is not None else (1, GENESIS_HASH)
    event = AuditEvent(
        seq=seq,
        at=when,
        actor=actor,
        action=action,
        subject=subject,
        details=clean,
        prev_hash=prev_hash,
        hash=event_hash(
            prev_hash, at=when, actor=actor, action=action, subject=subject, details=clean
        ),
    )
    session.add(event)
    session.flush()
    return event


def serialize_writers(session: Session) -> None:
    """Queue this write transaction behind the ledger's other writers until it ends.

    On PostgreSQL a transaction-level advisory lock (UNIQUE(prev_hash) still guards the audit
    chain); SQLite write transactions already begin IMMEDIATE, one at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK})


def event_hash(
    prev_hash: str, *, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]
) -> str:
    """sha256 of the previous hash followed by the canonical JSON of the event's own fields."""
    fields = {
        "at": at.astimezone(UTC).isoformat(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
    }
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


def verify_chain(session: Session) -> AuditReport:
    """Walk the chain in seq order: report edited rows, broken links and seq gaps."""
    problems: list[str] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    rows = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=500)
    )
    for event in rows:
        count += 1
        if event.seq != expected_seq:
            problems.append(
                f"seq {event.seq}: expected seq {expected_seq}; "
                f"events {expected_seq}..{event.seq - 1} were deleted"
            )
        if event.prev_hash != prev_hash:
            problems.append(
                f"seq {event.seq}: prev_hash does not match the hash of the event before it; "
                "an event was inserted or deleted here"
            )
        recomputed = event_hash(
            event.prev_hash,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
        )
        if recomputed != event.hash:
            problems.append(
                f"seq {event.seq}: hash mismatch; the event ({event.action} on {event.subject}) "
                "was edited after it was written"
            )
        expected_seq, prev_hash = event.seq + 1, event.hash
    return AuditReport(ok=not problems, events=count, problems=problems, head_hash=prev_hash)


def _canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, ASCII only, no NaN; ledger types converted."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_to_json
    )


def _json_safe(details: dict[str, Any]) -> dict[str, Any]:
    """Details as plain JSON (Decimal, datetime, enums and models turned into text or dicts)."""
    try:
        clean: dict[str, Any] = json.loads(_canonical(details))
    except (TypeError, ValueError) as err:
        raise LedgerError(
            f"audit details cannot be stored as JSON ({err}); pass plain values "
            "(str, int, finite float, bool, None, Decimal, datetime, lists and dicts)"
        ) from err
    return clean


def _to_json(value: Any) -> Any:
    """Convert a value json cannot encode by itself."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"time {value.isoformat()} is naive")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
