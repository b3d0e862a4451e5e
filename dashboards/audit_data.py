"""The Audit page's queries: audit events filtered in SQL, a page at a time, and the chain check.

Pages are cut by sequence number (newest first, `before` the last one shown), so an older page
costs what the first one does however long the trail is. The chain is verified automatically
while the trail is short; a long one is verified when someone asks (it reads every event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import streamlit as st
from sqlalchemy import func, select

from dashboards.data import REFRESH_SECONDS, fetch, open_ledger
from factory_agents.ledger import AuditEntry, AuditReport
from factory_agents.ledger.models import AuditEvent

PAGE_SIZE = 50
AUTO_VERIFY_EVENTS = 5_000
"""Up to this many events, the chain is verified whenever the page is opened (cached)."""


@dataclass(frozen=True)
class AuditSearch:
    """What to look for: subject and action by prefix, actor exactly, a time range (UTC)."""

    subject: str = ""
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of matching events, newest first, and whether older matches exist."""

    events: list[AuditEntry]
    more: bool


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def search(url: str, query: AuditSearch, before: int | None = None) -> AuditPage:
    """Up to PAGE_SIZE events matching `query` with seq below `before`, newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE + 1)
    if query.subject.strip():
        stmt = stmt.where(AuditEvent.subject.startswith(query.subject.strip(), autoescape=True))
    if query.actor.strip():
        stmt = stmt.where(AuditEvent.actor == query.actor.strip())
    if query.action.strip():
        stmt = stmt.where(AuditEvent.action.startswith(query.action.strip(), autoescape=True))
    if query.since is not None:
        stmt = stmt.where(AuditEvent.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEvent.at < query.until)
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before)
    rows = [row for (row,) in fetch(url, stmt)]
    events = [
        AuditEntry(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            details=row.details,
            hash=row.hash,
        )
        for row in rows[:PAGE_SIZE]
    ]
    return AuditPage(events=events, more=len(rows) > PAGE_SIZE)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def event_count(url: str) -> int:
    """How many events the trail holds (its newest seq: seq numbers are dense)."""
    return int(fetch(url, select(func.max(AuditEvent.seq)))[0][0] or 0)


@st.cache_data(ttl=60, show_spinner=False)
def chain_report(url: str, events: int) -> AuditReport:
    """The chain verified end to end (cached a minute per trail length)."""
    return open_ledger(url).audit_report()
