"""The Savings page's queries: sums from the ledger's daily savings table, grouped in SQL.

`savings_daily` is kept by a database trigger on every saving written (migration 0005), so
totals, breakdowns and the cumulative curve read a few rows per agent, line and day, never
every saving. Model costs are grouped in SQL over the model-call records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import streamlit as st
from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from dashboards.data import REFRESH_SECONDS, TABLE_ROWS, fetch, open_ledger
from factory_agents.ledger import SavingKind, SavingsLine
from factory_agents.ledger.models import LlmUsage, ProposalRow, SavingRow, SavingsDaily
from factory_agents.llm.cost import CostSummary, tidy

Grouping = Literal["agent", "domain", "line", "month"]
EXACT_POINTS = 500
"""Up to this many realized savings, the cumulative curve has a point per saving; beyond, a
point per day."""
UNREGISTERED = "not installed"
"""The domain shown for an agent no installed spec describes (the copilot's drafts, say)."""

_estimated = aliased(SavingRow, name="estimated")
_realized = aliased(SavingRow, name="realized")
_EXPLAIN_PREFIX = len("explain:")
_EXPLAIN_SUFFIX = len(":") + 12
"""Explanation task ids are `explain:<proposal id>:<12 hex digits of its content hash>`."""


@dataclass(frozen=True)
class SavingsGroup:
    """Savings of one group (an agent, domain, line or month) in one currency, kept apart."""

    key: str
    currency: str
    estimated: Decimal
    realized: Decimal
    proposals: int
    verified: int
    like_for_like: int
    estimated_per_hour: float
    realized_per_hour: float

    @property
    def realization_rate(self) -> float | None:
        """Realized over estimated saving per hour, over verified proposals; None without."""
        if not self.like_for_like or not self.estimated_per_hour:
            return None
        return self.realized_per_hour / self.estimated_per_hour


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
class AgentModelCost:
    """What the language models cost for one agent's proposals (their explanations)."""

    agent: str
    currency: str
    cost: Decimal
    calls: int


@st.cache_data(ttl=3600, show_spinner=False)
def agent_domains() -> dict[str, str]:
    """The domain of every installed agent (quality, energy, ...), by agent name."""
    from factory_agents.registry import agent_specs

    return {name: str(spec.domain) for name, spec in agent_specs().items()}


def _group_key(by: Literal["agent", "line", "month", "currency"]) -> Any:
    """The savings_daily expression a breakdown groups by."""
    if by == "month":
        return func.substr(SavingsDaily.day, 1, 7)
    return {
        "agent": SavingsDaily.agent,
        "line": SavingsDaily.line,
        "currency": SavingsDaily.currency,
    }[by]


def _grouped(url: str, by: Literal["agent", "line", "month", "currency"]) -> list[SavingsGroup]:
    """Sums per group and currency, from the daily table, grouped in SQL."""
    key = _group_key(by).label("key")
    stmt = (
        select(
            key,
            SavingsDaily.currency,
            func.sum(SavingsDaily.estimated_amount),
            func.sum(SavingsDaily.realized_amount),
            func.sum(SavingsDaily.estimated_count),
            func.sum(SavingsDaily.realized_count),
            func.sum(SavingsDaily.verified_count),
            func.sum(SavingsDaily.verified_estimated_per_hour),
            func.sum(SavingsDaily.verified_realized_per_hour),
        )
        .group_by(key, SavingsDaily.currency)
        .order_by(key, SavingsDaily.currency)
    )
    groups = []
    for group, currency, est, real, proposals, verified, like, est_rate, real_rate in fetch(
        url, stmt
    ):
        like = int(like or 0)
        groups.append(
            SavingsGroup(
                key=str(group),
                currency=currency,
                estimated=est or Decimal("0.00"),
                realized=real or Decimal("0.00"),
                proposals=int(proposals or 0),
                verified=int(verified or 0),
                like_for_like=like,
                estimated_per_hour=float(est_rate or 0.0) / like if like else 0.0,
                realized_per_hour=float(real_rate or 0.0) / like if like else 0.0,
            )
        )
    return groups


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def breakdown(url: str, by: Grouping, domains: dict[str, str] | None = None) -> list[SavingsGroup]:
    """Savings per agent, domain (agents mapped by `domains`), line or month and currency."""
    if by != "domain":
        return _grouped(url, by)
    merged: dict[tuple[str, str], SavingsGroup] = {}
    for group in _grouped(url, "agent"):
        domain = (domains or {}).get(group.key, UNREGISTERED)
        merged[(domain, group.currency)] = _merge(
            merged.get((domain, group.currency)), group, domain
        )
    return [merged[key] for key in sorted(merged)]


def _merge(earlier: SavingsGroup | None, group: SavingsGroup, key: str) -> SavingsGroup:
    """Two groups' sums as one group named `key` (means per hour weighted by their counts)."""
    if earlier is None:
        return SavingsGroup(**{**group.__dict__, "key": key})
    like = earlier.like_for_like + group.like_for_like

    def mean(a: float, b: float) -> float:
        return (a * earlier.like_for_like + b * group.like_for_like) / like if like else 0.0

    return SavingsGroup(
        key=key,
        currency=group.currency,
        estimated=earlier.estimated + group.estimated,
        realized=earlier.realized + group.realized,
        proposals=earlier.proposals + group.proposals,
        verified=earlier.verified + group.verified,
        like_for_like=like,
        estimated_per_hour=mean(earlier.estimated_per_hour, group.estimated_per_hour),
        realized_per_hour=mean(earlier.realized_per_hour, group.realized_per_hour),
    )


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def currency_totals(url: str) -> list[CurrencyTotals]:
    """Headline totals per currency, with the realization rate of the verified proposals."""
    return [
        CurrencyTotals(
            currency=group.currency,
            estimated=group.estimated,
            realized=group.realized,
            proposals=group.proposals,
            verified=group.verified,
            realization_rate=group.realization_rate,
        )
        for group in _grouped(url, "currency")
    ]


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def hourly_rates(url: str) -> list[AgentRates]:
    """Per agent and currency, over verified proposals: mean saving per hour, estimated (over
    its horizon) and realized (over its verification window), so the two compare like for like."""
    return [
        AgentRates(
            agent=group.key,
            currency=group.currency,
            estimated_per_hour=group.estimated_per_hour,
            realized_per_hour=group.realized_per_hour,
            verified=group.like_for_like,
        )
        for group in _grouped(url, "agent")
        if group.like_for_like
    ]


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def cumulative_realized(url: str) -> list[RealizedPoint]:
    """Realized saving accumulated over time per currency: per saving while there are few,
    per day beyond EXACT_POINTS (running sums computed in SQL)."""
    count = fetch(url, select(func.sum(SavingsDaily.realized_count)))[0][0] or 0
    if count <= EXACT_POINTS:
        running = func.sum(SavingRow.amount).over(
            partition_by=SavingRow.currency, order_by=(SavingRow.recorded_at, SavingRow.id)
        )
        stmt = (
            select(SavingRow.recorded_at, SavingRow.currency, running.label("cumulative"))
            .where(SavingRow.kind == SavingKind.REALIZED)
            .order_by(SavingRow.currency, SavingRow.recorded_at, SavingRow.id)
        )
        return [RealizedPoint(at, currency, total) for at, currency, total in fetch(url, stmt)]
    daily = (
        select(
            SavingsDaily.day,
            SavingsDaily.currency,
            func.sum(SavingsDaily.realized_amount).label("amount"),
        )
        .where(SavingsDaily.realized_count > 0)
        .group_by(SavingsDaily.day, SavingsDaily.currency)
        .subquery()
    )
    running_daily = func.sum(daily.c.amount).over(
        partition_by=daily.c.currency, order_by=daily.c.day
    )
    rows = fetch(
        url,
        select(daily.c.day, daily.c.currency, running_daily).order_by(
            daily.c.currency, daily.c.day
        ),
    )
    return [
        RealizedPoint(datetime.fromisoformat(f"{day}T23:59:59+00:00"), currency, total)
        for day, currency, total in rows
    ]


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def proposal_savings(url: str, limit: int = TABLE_ROWS) -> list[SavingsLine]:
    """The newest proposals with their estimated and realized savings side by side."""
    return open_ledger(url).savings_by_proposal(limit)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def model_costs(url: str) -> list[CostSummary]:
    """Per task type, model and currency: calls, tokens, cost, per task and per successful task."""
    successful = case((LlmUsage.task_ok.is_(True), LlmUsage.task_id), else_=None)
    stmt = (
        select(
            LlmUsage.task,
            LlmUsage.model,
            LlmUsage.currency,
            func.count(distinct(LlmUsage.task_id)),
            func.count(distinct(successful)),
            func.count(),
            func.sum(case((LlmUsage.call_ok.is_(False), 1), else_=0)),
            func.sum(LlmUsage.input_tokens),
            func.sum(LlmUsage.output_tokens),
            func.sum(LlmUsage.cost),
            func.avg(LlmUsage.latency_seconds),
        )
        .group_by(LlmUsage.task, LlmUsage.model, LlmUsage.currency)
        .order_by(LlmUsage.task, LlmUsage.model, LlmUsage.currency)
    )
    summaries = []
    for (
        task,
        model,
        currency,
        tasks,
        successes,
        calls,
        failed,
        tokens_in,
        tokens_out,
        cost,
        lat,
    ) in fetch(url, stmt):
        total = tidy(cost or Decimal(0))
        summaries.append(
            CostSummary(
                task=task,
                model=model,
                currency=currency,
                tasks=tasks,
                successful_tasks=successes,
                calls=calls,
                failed_calls=int(failed or 0),
                input_tokens=int(tokens_in or 0),
                output_tokens=int(tokens_out or 0),
                cost=total,
                cost_per_task=tidy(total / tasks) if tasks else None,
                cost_per_successful_task=tidy(total / successes) if successes else None,
                mean_latency_seconds=float(lat) if lat is not None else None,
            )
        )
    return summaries


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def agent_model_costs(url: str) -> list[AgentModelCost]:
    """Per agent and currency: the cost of the model calls that explained its proposals."""
    proposal_id = func.substr(
        LlmUsage.task_id,
        _EXPLAIN_PREFIX + 1,
        func.length(LlmUsage.task_id) - _EXPLAIN_PREFIX - _EXPLAIN_SUFFIX,
    )
    stmt = (
        select(ProposalRow.agent, LlmUsage.currency, func.sum(LlmUsage.cost), func.count())
        .join(ProposalRow, ProposalRow.id == proposal_id)
        .where(LlmUsage.task == "explain")
        .group_by(ProposalRow.agent, LlmUsage.currency)
        .order_by(ProposalRow.agent, LlmUsage.currency)
    )
    return [
        AgentModelCost(agent, currency, tidy(cost or Decimal(0)), calls)
        for agent, currency, cost, calls in fetch(url, stmt)
    ]


CSV_COLUMNS = (
    "proposal_id",
    "created_at_utc",
    "agent",
    "line",
    "title",
    "status",
    "estimated_saving",
    "horizon_hours",
    "realized_saving",
    "verification_hours",
    "currency",
)


def savings_csv_rows(url: str, batch: int = 5_000) -> Iterator[tuple[Any, ...]]:
    """Every proposal's estimated and realized saving, oldest first, read in batches."""
    stmt = (
        select(
            ProposalRow.id,
            ProposalRow.created_at,
            ProposalRow.agent,
            ProposalRow.line,
            ProposalRow.title,
            ProposalRow.status,
            _estimated.amount,
            _estimated.period_hours,
            _realized.amount,
            _realized.period_hours,
            _estimated.currency,
        )
        .join(
            _estimated,
            and_(
                _estimated.proposal_id == ProposalRow.id,
                _estimated.kind == SavingKind.ESTIMATED,
            ),
        )
        .outerjoin(
            _realized,
            and_(_realized.proposal_id == ProposalRow.id, _realized.kind == SavingKind.REALIZED),
        )
        .order_by(ProposalRow.created_at, ProposalRow.id)
        .execution_options(yield_per=batch)
    )
    with Session(open_ledger(url).engine) as session:
        for row in session.execute(stmt):
            yield tuple(row)


def savings_csv(url: str) -> str:
    """The savings of every proposal as CSV (estimated and realized in their own columns)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for (
        pid,
        at,
        agent,
        line,
        title,
        status,
        est,
        horizon,
        real,
        period,
        currency,
    ) in savings_csv_rows(url):
        writer.writerow(
            (
                pid,
                at.strftime("%Y-%m-%d %H:%M:%S"),
                agent,
                line,
                title,
                status,
                est,
                horizon,
                "" if real is None else real,
                "" if period is None else period,
                currency,
            )
        )
    return out.getvalue()
