"""The ledger's control state: the kill switch, agents' autonomy and on/off switches, and their
track record.

Every change is written with its audit event in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from factory_agents.ledger.audit import append_event
from factory_agents.ledger.models import (
    AgentAutonomy,
    AgentSwitch,
    DecisionRow,
    PlatformControl,
    ProposalRow,
    SavingRow,
)
from factory_agents.ledger.views import (
    AgentSwitchView,
    AutonomyLevel,
    ControlView,
    ProposalStatus,
    SavingKind,
    TrackRecord,
)

CONTROL_ROW = 1
RUNNING = ControlView(mode="running", changed_by="factory-agents", changed_at=None, reason="")


def current(session: Session) -> ControlView:
    """The kill switch's state; running when nobody has ever stopped the platform."""
    row = session.get(PlatformControl, CONTROL_ROW)
    if row is None:
        return RUNNING
    mode: Literal["running", "stopped"] = "stopped" if row.mode == "stopped" else "running"
    return ControlView(
        mode=mode, changed_by=row.changed_by, changed_at=row.changed_at, reason=row.reason
    )


def change(
    session: Session,
    mode: Literal["running", "stopped"],
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> bool:
    """Set the platform running or stopped (audited); False if it was so already."""
    row = session.get(PlatformControl, CONTROL_ROW)
    was = row.mode if row is not None else "running"
    if was == mode:
        return False
    if row is None:
        row = PlatformControl(id=CONTROL_ROW)
        session.add(row)
    row.mode, row.changed_by, row.changed_at, row.reason = mode, actor, now, reason
    action = "platform.stopped" if mode == "stopped" else "platform.resumed"
    append_event(
        session,
        actor=actor,
        action=action,
        subject="platform",
        details={"from": was, "to": mode, "reason": reason},
        at=now,
    )
    return True


def autonomy_level(session: Session, agent: str) -> AutonomyLevel:
    """The agent's autonomy level; assisted unless someone set another."""
    row = session.get(AgentAutonomy, agent)
    return AutonomyLevel(row.level) if row is not None else AutonomyLevel.ASSISTED


def change_autonomy(
    session: Session,
    agent: str,
    level: AutonomyLevel,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> bool:
    """Set the agent's autonomy level (audited); False if it was at that level already."""
    was = autonomy_level(session, agent)
    if was == level:
        return False
    row = session.get(AgentAutonomy, agent)
    if row is None:
        row = AgentAutonomy(agent=agent)
        session.add(row)
    row.level, row.changed_by, row.changed_at, row.reason = level, actor, now, reason
    append_event(
        session,
        actor=actor,
        action="agent.autonomy",
        subject=agent,
        details={"from": was, "to": level, "reason": reason},
        at=now,
    )
    return True


def agent_switch(session: Session, agent: str) -> AgentSwitchView:
    """Whether the agent may propose; enabled unless someone disabled it."""
    row = session.get(AgentSwitch, agent)
    if row is None:
        return AgentSwitchView(agent=agent, enabled=True)
    return AgentSwitchView(
        agent=agent,
        enabled=row.enabled,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
        reason=row.reason,
    )


def agent_switches(session: Session) -> dict[str, AgentSwitchView]:
    """Every agent someone has switched on or off, by name (the others are enabled)."""
    return {
        row.agent: AgentSwitchView(
            agent=row.agent,
            enabled=row.enabled,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
            reason=row.reason,
        )
        for row in session.scalars(select(AgentSwitch))
    }


def change_enabled(
    session: Session,
    agent: str,
    enabled: bool,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> bool:
    """Enable or disable the agent (audited); False if it was so already."""
    if agent_switch(session, agent).enabled == enabled:
        return False
    row = session.get(AgentSwitch, agent)
    if row is None:
        row = AgentSwitch(agent=agent)
        session.add(row)
    row.enabled, row.changed_by, row.changed_at, row.reason = enabled, actor, now, reason
    append_event(
        session,
        actor=actor,
        action="agent.enabled" if enabled else "agent.disabled",
        subject=agent,
        details={"enabled": enabled, "reason": reason},
        at=now,
    )
    return True


def track_record(session: Session, agent: str, *, last: int) -> TrackRecord:
    """People's decisions on the agent's `last` decided proposals, and their adverse outcomes.

    The window holds proposals decided by people and those approved automatically under
    autonomy; approvals and rejections count only people's decisions, adverse outcomes
    (a failed execution, a negative realized saving) count every proposal in the window.
    """
    window = session.execute(
        select(ProposalRow.id, ProposalRow.status)
        .where(
            ProposalRow.agent == agent,
            ProposalRow.id.in_(select(DecisionRow.proposal_id)),
        )
        .order_by(ProposalRow.created_at.desc(), ProposalRow.id.desc())
        .limit(last)
    ).all()
    ids = [pid for pid, _status in window]
    verdicts = _people_verdicts(session, ids)
    newest_first = [verdicts[pid] for pid in ids if pid in verdicts]
    consecutive = 0
    for verdict in newest_first:
        if verdict != "reject":
            break
        consecutive += 1
    failed = {pid for pid, status in window if status == ProposalStatus.FAILED}
    return TrackRecord(
        agent=agent,
        decisions=len(newest_first),
        approved=newest_first.count("approve"),
        rejected=newest_first.count("reject"),
        adverse=len(failed | _losses(session, ids)),
        consecutive_rejections=consecutive,
    )


def _people_verdicts(session: Session, proposal_ids: list[str]) -> dict[str, str]:
    """Each proposal's latest decision by a person (not automatic): approve or reject."""
    rows = session.execute(
        select(DecisionRow.proposal_id, DecisionRow.decision)
        .where(DecisionRow.proposal_id.in_(proposal_ids), DecisionRow.method != "automatic")
        .order_by(DecisionRow.id)
    )
    return {pid: verdict for pid, verdict in rows}


def _losses(session: Session, proposal_ids: list[str]) -> set[str]:
    """Proposals among these whose realized saving came out negative."""
    return set(
        session.scalars(
            select(SavingRow.proposal_id).where(
                SavingRow.proposal_id.in_(proposal_ids),
                SavingRow.kind == SavingKind.REALIZED,
                SavingRow.amount < 0,
            )
        ).all()
    )
