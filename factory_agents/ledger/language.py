"""The language layer's records in the ledger: model calls with their cost, and explanations.

Plain data in, plain data out: the ledger never imports the language layer (langchain-core),
so opening it stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factory_agents.ledger.audit import append_event
from factory_agents.ledger.models import ExplanationRow, LlmUsage

USAGE_FIELDS = (
    "call_id", "task_id", "task", "model", "input_tokens", "output_tokens", "usage_reported",
    "cost", "currency", "latency_seconds", "call_ok", "task_ok", "error", "at",
)  # fmt: skip


def add_usage(session: Session, records: Sequence[dict[str, Any]]) -> int:
    """Store model calls (a record with a known call id replaces it); how many were new."""
    new = 0
    for record in records:
        fields = {name: record[name] for name in USAGE_FIELDS}
        row = session.get(LlmUsage, fields["call_id"])
        if row is None:
            session.add(LlmUsage(**fields))
            new += 1
        else:
            for name, value in fields.items():
                setattr(row, name, value)
    return new


def usage(session: Session, *, since: datetime | None, limit: int) -> list[dict[str, Any]]:
    """Model calls, newest first, as plain records."""
    stmt = select(LlmUsage).order_by(LlmUsage.at.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(LlmUsage.at >= since)
    return [{name: getattr(row, name) for name in USAGE_FIELDS} for row in session.scalars(stmt)]


def add_explanation(session: Session, body: dict[str, Any], *, now: datetime) -> None:
    """Store (or replace) a proposal's explanation; audit a model explanation that was refused."""
    key = (body["proposal_id"], body["content_hash"])
    row = session.get(ExplanationRow, key)
    if row is None:
        row = ExplanationRow(proposal_id=key[0], content_hash=key[1])
        session.add(row)
    row.source, row.model, row.label = body["source"], body.get("model"), body["label"]
    row.summary, row.body, row.created_at = body["summary"], body, now
    row.rejections = list(body.get("rejections") or [])
    if row.rejections:
        append_event(
            session,
            actor="language-layer",
            action="explanation.rejected",
            subject=key[0],
            details={"content_hash": key[1], "rejections": row.rejections},
            at=now,
        )


def explanation(session: Session, proposal_id: str, content_hash: str) -> dict[str, Any] | None:
    """The stored explanation of this version of the proposal, if any."""
    row = session.get(ExplanationRow, (proposal_id, content_hash))
    return dict(row.body) if row is not None else None
