"""Every ledger query the board makes: aggregated in SQL, cached for a few seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVarTuple

import streamlit as st
from sqlalchemy import Float, Row, Select, and_, cast, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased

from factory_agents.errors import LedgerError
from factory_agents.ledger import (
    AgentTotals,
    Ledger,
    ProposalStatus,
    ProposalView,
    SavingKind,
    SavingsLine,
)
from factory_agents.ledger.models import DecisionRow, ProposalRow, SavingRow
from factory_agents.settings import Settings

REFRESH_SECONDS = 5
"""How often the live parts of the board rerun, and how long a query result is reused."""
TABLE_ROWS = 200
"""Most rows a table on the board shows (newest first)."""

_estimated = aliased(SavingRow, name="estimated")
_realized = aliased(SavingRow, name="realized")
_Columns = TypeVarTuple("_Columns")


@dataclass(frozen=True)
class CurrencyTotals:
    """Headline savings in one currency; estimated and realized are kept apart."""

    currency: str
    estimated: Decimal
    realized: Decimal
    proposals: int
    verified: int
    realization_rate: float | None


@dataclass(frozen=True)
class AgentRates:
    """An agent's verified proposals, like for like: mean estimated and realized saving per hour."""

    agent: str
    currency: str
    estimated_per_hour: float
    realized_per_hour: float
    verified: int


@dataclass(frozen=True)
class RealizedPoint:
    """The realized saving accumulated in one currency up to the moment one was measured."""

    recorded_at: datetime
    currency: str
    cumulative: Decimal


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


def _fetch(url: str, stmt: Select[*_Columns]) -> Sequence[Row[*_Columns]]:
    """Run one read query on the ledger at `url`; database failures become LedgerError."""
    try:
        with Session(open_ledger(url).engine) as session:
            return session.execute(stmt).all()
    except DBAPIError as err:
        raise LedgerError(
            f"could not read the ledger: {err.orig}; check that the database is reachable"
        ) from err


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def agent_totals(url: str) -> list[AgentTotals]:
    """Per agent and currency: estimated and realized sums and counts."""
    return open_ledger(url).savings_totals()


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def currency_totals(url: str) -> list[CurrencyTotals]:
    """Headline totals per currency, with the realization rate of the verified proposals."""
    rates = _realization_rates(url)
    totals: dict[str, CurrencyTotals] = {}
    for line in agent_totals(url):
        earlier = totals.get(line.currency)
        totals[line.currency] = CurrencyTotals(
            currency=line.currency,
            estimated=line.estimated_total + (earlier.estimated if earlier else Decimal(0)),
            realized=line.realized_total + (earlier.realized if earlier else Decimal(0)),
            proposals=line.proposals + (earlier.proposals if earlier else 0),
            verified=line.verified + (earlier.verified if earlier else 0),
            realization_rate=rates.get(line.currency),
        )
    return sorted(totals.values(), key=lambda total: total.currency)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def hourly_rates(url: str) -> list[AgentRates]:
    """Per agent and currency, over verified proposals: mean saving per hour, estimated (over
    its horizon) and realized (over its verification window), so the two compare like for like."""
    # Money is stored in cents: the casts read cents, hence the division by 100.
    realized_rate = func.avg(cast(_realized.amount, Float) / 100 / _realized.period_hours)
    estimated_rate = func.avg(cast(_estimated.amount, Float) / 100 / _estimated.period_hours)
    stmt = (
        select(_estimated.agent, _estimated.currency, estimated_rate, realized_rate, func.count())
        .join(
            _realized,
            and_(
                _realized.proposal_id == _estimated.proposal_id,
                _realized.kind == SavingKind.REALIZED,
            ),
        )
        .where(
            _estimated.kind == SavingKind.ESTIMATED,
            _estimated.period_hours > 0,
            _realized.period_hours > 0,
        )
        .group_by(_estimated.agent, _estimated.currency)
        .order_by(_estimated.agent)
    )
    return [
        AgentRates(agent, currency, float(estimated), float(realized), count)
        for agent, currency, estimated, realized, count in _fetch(url, stmt)
    ]


def _realization_rates(url: str) -> dict[str, float]:
    """Per currency: realized saving per hour over estimated saving per hour, verified only."""
    sums: dict[str, list[float]] = {}
    for rate in hourly_rates(url):
        realized, estimated = sums.setdefault(rate.currency, [0.0, 0.0])
        sums[rate.currency] = [
            realized + rate.realized_per_hour * rate.verified,
            estimated + rate.estimated_per_hour * rate.verified,
        ]
    return {currency: r / e for currency, (r, e) in sums.items() if e}


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def proposal_savings(url: str, limit: int = TABLE_ROWS) -> list[SavingsLine]:
    """The newest proposals with their estimated and realized savings side by side."""
    return open_ledger(url).savings_by_proposal(limit=limit)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def cumulative_realized(url: str) -> list[RealizedPoint]:
    """Realized saving accumulated over time per currency (a running sum computed in SQL)."""
    running = func.sum(SavingRow.amount).over(
        partition_by=SavingRow.currency, order_by=(SavingRow.recorded_at, SavingRow.id)
    )
    stmt = (
        select(SavingRow.recorded_at, SavingRow.currency, running.label("cumulative"))
        .where(SavingRow.kind == SavingKind.REALIZED)
        .order_by(SavingRow.currency, SavingRow.recorded_at, SavingRow.id)
    )
    rows = _fetch(url, stmt)
    return [
        RealizedPoint(recorded_at=at, currency=currency, cumulative=cumulative)
        for at, currency, cumulative in rows
    ]


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def pending_proposals(url: str) -> list[ProposalView]:
    """Pending, unexpired proposals: largest estimated saving first, then least time left."""
    now = datetime.now(UTC)
    pending = open_ledger(url).list_proposals(status=ProposalStatus.PENDING, limit=TABLE_ROWS)
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
    rows = _fetch(url, stmt)
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
        for decided_at, title, agent, decision, user, reason, status in rows
    ]


def forget_cached_queries() -> None:
    """Drop cached query results, so the next run shows the ledger as it is now."""
    for query in (
        agent_totals,
        currency_totals,
        proposal_savings,
        cumulative_realized,
        pending_proposals,
        recent_decisions,
    ):
        query.clear()
