"""Read queries of the ledger: proposals with their decision, action and savings; totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVarTuple

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from factory_agents.agent import Proposal
from factory_agents.ledger.models import ActionRow, AuditEvent, DecisionRow, ProposalRow, SavingRow
from factory_agents.ledger.views import (
    OPEN_STATUSES,
    ActionView,
    AgentTotals,
    AuditEntry,
    DecisionView,
    ProposalView,
    SavingKind,
    SavingsLine,
)

Ts = TypeVarTuple("Ts")
_ZERO = Decimal("0.00")
_estimated = aliased(SavingRow, name="estimated")
_realized = aliased(SavingRow, name="realized")


def _with_savings(stmt: Select[*Ts]) -> Select[*Ts]:
    """Join a proposal query to its estimated saving and (outer) its realized one."""
    return stmt.join(
        _estimated,
        and_(_estimated.proposal_id == ProposalRow.id, _estimated.kind == SavingKind.ESTIMATED),
    ).outerjoin(
        _realized,
        and_(_realized.proposal_id == ProposalRow.id, _realized.kind == SavingKind.REALIZED),
    )


def proposal_views(
    session: Session,
    *,
    proposal_id: str | None = None,
    run_id: str | None = None,
    status: str | None = None,
    statuses: tuple[str, ...] = (),
    limit: int = 200,
) -> list[ProposalView]:
    """Proposals newest first, each with its decisions, action and savings (two queries)."""
    stmt = _with_savings(
        select(ProposalRow, ActionRow, _estimated.amount, _estimated.currency, _realized.amount)
    )
    stmt = stmt.outerjoin(ActionRow, ActionRow.proposal_id == ProposalRow.id)
    if proposal_id is not None:
        stmt = stmt.where(ProposalRow.id == proposal_id)
    if run_id is not None:
        stmt = stmt.where(ProposalRow.run_id == run_id)
    if status is not None:
        stmt = stmt.where(ProposalRow.status == status)
    if statuses:
        stmt = stmt.where(ProposalRow.status.in_(statuses))
    stmt = stmt.order_by(ProposalRow.created_at.desc(), ProposalRow.id.desc()).limit(limit)
    rows = session.execute(stmt).all()
    signatures = _decisions_of(session, [row.id for row, *_rest in rows])
    views = []
    for row, action, estimated, currency, realized in rows:
        views.append(
            ProposalView(
                id=row.id,
                run_id=row.run_id,
                agent=row.agent,
                line=row.line,
                subject=row.subject,
                title=row.title,
                status=row.status,
                created_at=row.created_at,
                expires_at=row.expires_at,
                updated_at=row.updated_at,
                content_hash=row.content_hash,
                proposal=Proposal.model_validate(row.body),
                decisions=signatures.get(row.id, []),
                action=action_view(action) if action is not None else None,
                estimated_amount=estimated,
                realized_amount=realized,
                currency=currency,
            )
        )
    return views


def _decisions_of(session: Session, proposal_ids: list[str]) -> dict[str, list[DecisionView]]:
    """Every proposal's decisions in the order they were made."""
    found: dict[str, list[DecisionView]] = {}
    stmt = (
        select(DecisionRow)
        .where(DecisionRow.proposal_id.in_(proposal_ids))
        .order_by(DecisionRow.id)
    )
    for row in session.scalars(stmt):
        found.setdefault(row.proposal_id, []).append(decision_view(row))
    return found


def decision_view(row: DecisionRow) -> DecisionView:
    """The view of a stored decision."""
    method: Any = row.method
    verb: Any = row.decision
    return DecisionView(
        user=row.user,
        decision=verb,
        reason=row.reason,
        proposal_hash=row.proposal_hash,
        decided_at=row.decided_at,
        full_name=row.full_name,
        role=row.role,
        areas=tuple(row.areas or ()),
        signed_at=row.signed_at,
        signature=row.signature,
        key_id=row.key_id,
        method=method,
    )


def action_view(row: ActionRow) -> ActionView:
    """The view of a stored action."""
    return ActionView(
        action_id=row.id,
        proposal_id=row.proposal_id,
        kind=row.kind,
        subject=row.subject,
        details=row.details,
        from_value=row.from_value,
        to_value=row.to_value,
        read_back=row.read_back,
        reference=row.reference,
        status=row.status,
        executed_at=row.executed_at,
        message=row.message,
    )


def savings_lines(session: Session, limit: int | None = None) -> list[SavingsLine]:
    """Estimated next to realized saving per proposal, newest first (all, or the newest N).

    With a limit the newest proposals are picked first (through the created_at index) and only
    they are joined to their savings, so the cost does not grow with the ledger.
    """
    chosen = select(ProposalRow.id, ProposalRow.created_at).order_by(
        ProposalRow.created_at.desc(), ProposalRow.id.desc()
    )
    newest = (chosen.limit(limit) if limit is not None else chosen).subquery()
    stmt = _with_savings(
        select(
            ProposalRow.id,
            ProposalRow.agent,
            ProposalRow.line,
            ProposalRow.title,
            ProposalRow.status,
            _estimated.amount,
            _estimated.period_hours,
            _realized.amount,
            _realized.period_hours,
            _estimated.currency,
            ProposalRow.created_at,
        ).join(newest, newest.c.id == ProposalRow.id)
    ).order_by(newest.c.created_at.desc(), newest.c.id.desc())
    return [
        SavingsLine(
            proposal_id=pid,
            agent=agent,
            line=line,
            title=title,
            status=status,
            estimated_amount=estimated,
            horizon_hours=horizon,
            realized_amount=realized,
            period_hours=period,
            currency=currency,
            created_at=created_at,
        )
        for (
            pid,
            agent,
            line,
            title,
            status,
            estimated,
            horizon,
            realized,
            period,
            currency,
            created_at,
        ) in session.execute(stmt)
    ]


def agent_totals(session: Session) -> list[AgentTotals]:
    """Per agent and currency: estimated and realized sums and counts, grouped in SQL."""
    verified_estimate = case((_realized.id.is_not(None), _estimated.amount), else_=None)
    stmt = (
        _with_savings(
            select(
                ProposalRow.agent,
                _estimated.currency,
                func.sum(_estimated.amount),
                func.sum(verified_estimate),
                func.sum(_realized.amount),
                func.count(ProposalRow.id),
                func.count(_realized.id),
            )
        )
        .group_by(ProposalRow.agent, _estimated.currency)
        .order_by(ProposalRow.agent, _estimated.currency)
    )
    return [
        AgentTotals(
            agent=agent,
            currency=currency,
            estimated_total=estimated or _ZERO,
            estimated_verified_total=estimated_verified or _ZERO,
            realized_total=realized or _ZERO,
            proposals=proposals,
            verified=verified,
        )
        for (
            agent,
            currency,
            estimated,
            estimated_verified,
            realized,
            proposals,
            verified,
        ) in session.execute(stmt)
    ]


def audit_entries(session: Session, *, subject: str | None, limit: int) -> list[AuditEntry]:
    """Audit events newest first, optionally only those about one subject."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if subject is not None:
        stmt = stmt.where(AuditEvent.subject == subject)
    return [
        AuditEntry(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
            hash=event.hash,
        )
        for event in session.scalars(stmt)
    ]


def open_proposal_on(session: Session, subject: str) -> str | None:
    """The newest proposal on `subject` still in flight (pending, approved or executed)."""
    stmt = (
        select(ProposalRow.id)
        .where(ProposalRow.subject == subject, ProposalRow.status.in_(OPEN_STATUSES))
        .order_by(ProposalRow.created_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)
