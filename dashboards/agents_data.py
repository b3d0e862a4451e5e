"""The Agents page's queries: the installed catalog with each agent's state, record and runs.

Each query reads a bounded number of rows through an index: the newest runs and problems of
one agent, its last 50 decided proposals (track record), its totals from the daily savings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import streamlit as st
from sqlalchemy import func, select

from dashboards.data import REFRESH_SECONDS, fetch, open_ledger
from factory_agents.ledger import ProposalStatus
from factory_agents.ledger.models import ActionRow, AgentRun, ProposalRow, SavingsDaily
from factory_agents.ledger.views import AgentSwitchView, AutonomyLevel, TrackRecord

RECENT_RUNS = 10
RECENT_PROBLEMS = 10


@dataclass(frozen=True)
class CatalogEntry:
    """An installed agent: what it is (from its spec) and where it stands (from the ledger)."""

    name: str
    version: str
    domain: str
    risk: str
    description: str
    actions: tuple[str, ...]
    autonomy: AutonomyLevel
    switch: AgentSwitchView
    record: TrackRecord
    proposals: int
    verified: int
    last_run_at: datetime | None
    last_run_status: str | None


@dataclass(frozen=True)
class RunEntry:
    """One run of an agent: when, how it ended, what it found and proposed, what it skipped."""

    finished_at: datetime
    status: str
    findings: int
    proposals: int
    skipped: dict[str, Any]
    message: str


@dataclass(frozen=True)
class ProblemEntry:
    """A proposal of the agent that failed when executed, with what the action reported."""

    at: datetime
    title: str
    status: str
    message: str


@st.cache_data(ttl=3600, show_spinner=False)
def installed_specs() -> list[dict[str, Any]]:
    """The installed agents' specs as plain records (name, version, domain, risk, ...)."""
    from factory_agents.registry import agent_specs

    return [
        {
            "name": spec.name,
            "version": spec.version,
            "domain": str(spec.domain),
            "risk": str(spec.risk),
            "description": spec.description,
            "actions": tuple(spec.actions),
        }
        for spec in sorted(agent_specs().values(), key=lambda s: s.name)
    ]


def _totals(url: str) -> dict[str, tuple[int, int]]:
    """Per agent: proposals and verified proposals, from the daily savings sums."""
    stmt = select(
        SavingsDaily.agent,
        func.sum(SavingsDaily.estimated_count),
        func.sum(SavingsDaily.realized_count),
    ).group_by(SavingsDaily.agent)
    return {agent: (int(p or 0), int(v or 0)) for agent, p, v in fetch(url, stmt)}


def _last_run(url: str, agent: str) -> tuple[datetime | None, str | None]:
    """When the agent's newest run finished, and its status."""
    stmt = (
        select(AgentRun.finished_at, AgentRun.status)
        .where(AgentRun.agent == agent)
        .order_by(AgentRun.finished_at.desc())
        .limit(1)
    )
    rows = fetch(url, stmt)
    return (rows[0][0], rows[0][1]) if rows else (None, None)


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def catalog(url: str) -> list[CatalogEntry]:
    """Every installed agent with its autonomy, on/off switch, track record, totals, last run."""
    ledger = open_ledger(url)
    switches = ledger.agent_switches()
    totals = _totals(url)
    entries = []
    for spec in installed_specs():
        name = spec["name"]
        last_at, last_status = _last_run(url, name)
        proposals, verified = totals.get(name, (0, 0))
        entries.append(
            CatalogEntry(
                **spec,
                autonomy=ledger.autonomy(name),
                switch=switches.get(name, AgentSwitchView(agent=name, enabled=True)),
                record=ledger.track_record(name),
                proposals=proposals,
                verified=verified,
                last_run_at=last_at,
                last_run_status=last_status,
            )
        )
    return entries


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def recent_runs(url: str, agent: str, limit: int = RECENT_RUNS) -> list[RunEntry]:
    """The agent's newest runs, newest first."""
    stmt = (
        select(
            AgentRun.finished_at,
            AgentRun.status,
            AgentRun.findings,
            AgentRun.proposals,
            AgentRun.skipped,
            AgentRun.message,
        )
        .where(AgentRun.agent == agent)
        .order_by(AgentRun.finished_at.desc())
        .limit(limit)
    )
    return [RunEntry(*row) for row in fetch(url, stmt)]


@st.cache_data(ttl=REFRESH_SECONDS, show_spinner=False)
def recent_problems(url: str, agent: str, limit: int = RECENT_PROBLEMS) -> list[ProblemEntry]:
    """The agent's newest proposals whose execution failed, with the action's message."""
    stmt = (
        select(ProposalRow.updated_at, ProposalRow.title, ProposalRow.status, ActionRow.message)
        .outerjoin(ActionRow, ActionRow.proposal_id == ProposalRow.id)
        .where(ProposalRow.agent == agent, ProposalRow.status == ProposalStatus.FAILED)
        .order_by(ProposalRow.updated_at.desc())
        .limit(limit)
    )
    return [
        ProblemEntry(at, title, status, message or "")
        for at, title, status, message in (fetch(url, stmt))
    ]
