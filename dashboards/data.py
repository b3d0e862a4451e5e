"""The board's ledger connection and the Approvals page's queries: SQL, cached a few seconds.

Every page's queries live in a data module next to this one (savings_data, agents_data,
audit_data, plant_data); they all read through `open_ledger` and `fetch` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVarTuple

import streamlit as st
from sqlalchemy import Row, Select, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from factory_agents.errors import LedgerError
from factory_agents.ledger import Ledger, ProposalView
from factory_agents.ledger.models import DecisionRow, ProposalRow
from factory_agents.settings import Settings

REFRESH_SECONDS = 5
"""How often the live parts of the board rerun, and how long a query result is reused."""
TABLE_ROWS = 200
"""Most rows a table on the board shows (newest first)."""

_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class DecisionEntry:
    """An engineer's decision on a proposal, as the approval history shows it."""

    decided_at: datetime
    title: str
    agent: str
    decision: str
    user: str
    reason: str
    status: str


def ledger_url() -> str:
    """The ledger URL the board reads, from the FACTORY_* settings."""
    return Settings().ledger_url


def _close_ledger(ledger: Ledger) -> None:
    """Release a cached Ledger's connections when Streamlit drops it from its cache."""
    ledger.close()


@st.cache_resource(show_spinner=False, on_release=_close_ledger)
def open_ledger(url: str) -> Ledger:
    """The board's one Ledger (and its connection pool) per ledger URL."""
    return Ledger.open(url)


def fetch(url: str, stmt: Select[*_Columns]) -> Sequence[Row[*_Columns]]:
    """Run one read query on the ledger at `url`; database failures become LedgerError."""
    try:
        with Session(open_ledger(url).engine) as session:
            return session.execute(stmt).all()
    except DBAPIError as err:
        raise LedgerError(
            f"could not read the ledger: {err.orig}; check that the database is reachable"
        ) from err


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def pending_proposals(url: str) -> list[ProposalView]:
    """Unexpired proposals awaiting a decision (shadow ones too): largest saving first."""
    now = datetime.now(UTC)
    pending = open_ledger(url).awaiting_decision(limit=TABLE_ROWS)
    live = [view for view in pending if view.expires_at > now]
    return sorted(live, key=lambda view: (-view.estimated_amount, view.expires_at))


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def recent_decisions(url: str, limit: int = 20) -> list[DecisionEntry]:
    """The newest decisions with the proposal they were about and where it stands now."""
    stmt = (
        select(
            DecisionRow.decided_at,
            ProposalRow.title,
            ProposalRow.agent,
            DecisionRow.decision,
            DecisionRow.user,
            DecisionRow.reason,
            ProposalRow.status,
        )
        .join(ProposalRow, ProposalRow.id == DecisionRow.proposal_id)
        .order_by(DecisionRow.decided_at.desc(), DecisionRow.id.desc())
        .limit(limit)
    )
    return [
        DecisionEntry(
            decided_at=decided_at,
            title=title,
            agent=agent,
            decision=decision,
            user=user,
            reason=reason,
            status=status,
        )
        for decided_at, title, agent, decision, user, reason, status in fetch(url, stmt)
    ]


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def stored_explanation(url: str, proposal_id: str, content_hash: str) -> dict[str, Any] | None:
    """The explanation the platform stored for this version of a proposal, if any."""
    return open_ledger(url).explanation(proposal_id, content_hash)


def forget_cached_queries() -> None:
    """Drop cached query results, so the next run shows the ledger as it is now."""
    st.cache_data.clear()
