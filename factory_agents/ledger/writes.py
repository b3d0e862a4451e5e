"""The ledger's units of work: each writes its rows and its audit event in the caller's session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from factory_agents.actions import Action
from factory_agents.agent import Baseline, Proposal, RealizedSaving
from factory_agents.errors import LedgerError, ProposalError, ProposalNotPending, SubjectOpen
from factory_agents.ledger import queries
from factory_agents.ledger.audit import append_event, serialize_writers
from factory_agents.ledger.checks import aware, currency, known_status, money, proposal_row
from factory_agents.ledger.models import ActionRow, AgentRun, DecisionRow, ProposalRow, SavingRow
from factory_agents.ledger.views import ProposalStatus, SavingKind, Signature

SYSTEM_ACTOR = "factory-agents"
_DECIDED = {"approve": ProposalStatus.APPROVED, "reject": ProposalStatus.REJECTED}
_DECIDABLE = (ProposalStatus.PENDING, ProposalStatus.SHADOWED)
"""Statuses that still take signatures (a shadow proposal records what people would do)."""


def add_run(
    session: Session,
    *,
    now: datetime,
    run_id: str,
    agent: str,
    started_at: datetime,
    finished_at: datetime,
    status: str,
    findings: int,
    proposals: int,
    skipped: dict[str, int],
    message: str,
) -> None:
    """Record one agent run, unless a run with this id is recorded already."""
    if session.get(AgentRun, run_id) is not None:
        return
    session.add(
        AgentRun(
            id=run_id,
            agent=agent,
            started_at=aware(started_at, "started_at"),
            finished_at=aware(finished_at, "finished_at"),
            status=status,
            findings=findings,
            proposals=proposals,
            skipped=dict(skipped),
            message=message,
        )
    )
    details = {"status": status, "findings": findings, "proposals": proposals, "skipped": skipped}
    append_event(
        session, actor=agent, action="run.recorded", subject=run_id, details=details, at=now
    )


def add_proposal(
    session: Session,
    proposal: Proposal,
    *,
    now: datetime,
    run_id: str | None,
    expires_at: datetime,
    shadow: bool = False,
    exclusive_subject: bool = False,
) -> bool:
    """Record a proposal (pending, or shadowed) with its estimated saving; False if it exists;
    SubjectOpen if `exclusive_subject` and another proposal is open on its subject."""
    if exclusive_subject:
        serialize_writers(session)  # so no other writer records on the subject meanwhile
    if session.get(ProposalRow, proposal.proposal_id) is not None:
        return False
    subject = proposal.action.subject
    if exclusive_subject and (open_id := queries.open_proposal_on(session, subject)) is not None:
        raise SubjectOpen(subject, open_id)
    estimate = proposal.estimated_saving
    session.add(
        ProposalRow(
            id=proposal.proposal_id,
            run_id=run_id,
            agent=proposal.agent,
            line=proposal.line,
            subject=proposal.action.subject,
            title=proposal.title,
            rationale=proposal.rationale,
            body=proposal.model_dump(mode="json"),
            content_hash=proposal.content_hash(),
            status=ProposalStatus.SHADOWED if shadow else ProposalStatus.PENDING,
            created_at=aware(proposal.created_at, "proposal.created_at"),
            expires_at=aware(expires_at, "expires_at"),
            updated_at=now,
        )
    )
    session.add(
        SavingRow(
            proposal_id=proposal.proposal_id,
            kind=SavingKind.ESTIMATED,
            agent=proposal.agent,
            line=proposal.line,
            amount=money(estimate.amount, "estimated saving"),
            currency=currency(estimate.currency),
            period_hours=estimate.horizon_hours,
            baseline=proposal.baseline.model_dump(mode="json"),
            method="\n".join([estimate.formula, *(f"assumes: {a}" for a in estimate.assumptions)]),
            recorded_at=now,
        )
    )
    details = {
        "content_hash": proposal.content_hash(),
        "run_id": run_id,
        "action": proposal.action.model_dump(mode="json"),
        "estimated": estimate.amount,
        "currency": estimate.currency,
        "horizon_hours": estimate.horizon_hours,
        "expires_at": expires_at,
        "shadow": shadow,
    }
    append_event(
        session,
        actor=proposal.agent,
        action="proposal.created",
        subject=proposal.proposal_id,
        details=details,
        at=now,
    )
    return True


def change_status(
    session: Session, proposal_id: str, status: str, *, now: datetime, actor: str, detail: str
) -> None:
    """Move a proposal to `status` (no-op if it is there already)."""
    known_status(status)
    row = proposal_row(session, proposal_id, lock=True)
    if row.status == status:
        return
    details = {"from": row.status, "to": status, "detail": detail}
    row.status, row.updated_at = status, now
    append_event(
        session, actor=actor, action="proposal.status", subject=proposal_id, details=details, at=now
    )


def add_decision(
    session: Session, proposal_id: str, signature: Signature, *, now: datetime, approvers: int
) -> bool:
    """Record one signature on an undecided proposal; True when it completes the decision.

    A rejection completes it; approvals complete it once `approvers` different people have
    approved. Until then it stays pending. The same signer again is a no-op (it reports
    whether the decision is complete), the same signer changing their mind is refused.
    """
    if signature.decision not in _DECIDED:
        raise LedgerError(f"unknown decision {signature.decision!r}; use 'approve' or 'reject'")
    row = proposal_row(session, proposal_id, lock=True)
    user, verb = signature.user, signature.decision
    earlier = session.scalars(
        select(DecisionRow).where(DecisionRow.proposal_id == proposal_id).order_by(DecisionRow.id)
    ).all()
    for other in earlier:
        if other.user.casefold() != user.casefold():
            continue
        if other.decision == verb:
            return _complete(earlier, approvers)
        raise ProposalNotPending(
            f"proposal {proposal_id} was already {_DECIDED[other.decision]} by {other.user} at"
            f" {other.decided_at.isoformat()}; {user}'s {verb} was not recorded"
        )
    if row.status not in _DECIDABLE or _complete(earlier, approvers):
        decided = ", ".join(f"{_DECIDED[e.decision]} by {e.user}" for e in earlier)
        raise ProposalNotPending(
            f"proposal {proposal_id} is {row.status}{f' ({decided})' if decided else ''}, not"
            f" pending, so {user} cannot {verb} it; reload the approval queue (an agent will"
            " propose again if still needed)"
        )
    if aware(signature.decided_at, "decided_at") > row.expires_at:
        raise ProposalNotPending(
            f"proposal {proposal_id} expired at {row.expires_at.isoformat()}, before {user}'s "
            f"{verb} at {signature.decided_at.astimezone(UTC).isoformat()}; it can no longer be"
            " decided (an agent will propose again if still needed)"
        )
    if signature.proposal_hash != row.content_hash:
        raise ProposalError(
            f"{user} decided on content {signature.proposal_hash[:12]} of proposal {proposal_id},"
            f" but the ledger holds content {row.content_hash[:12]}; reload the proposal and"
            " decide again"
        )
    added = DecisionRow(
        proposal_id=proposal_id,
        decision=verb,
        user=user,
        reason=signature.reason,
        proposal_hash=signature.proposal_hash,
        decided_at=signature.decided_at,
        full_name=signature.full_name,
        role=signature.role,
        areas=list(signature.areas),
        signed_at=signature.signed_at,
        signature=signature.signature,
        key_id=signature.key_id,
        method=signature.method,
    )
    session.add(added)
    complete = _complete([*earlier, added], approvers)
    details = signature.model_dump(mode="json", exclude={"decision", "user"})
    details["complete"] = complete
    action = f"proposal.{_DECIDED[verb]}" if complete else "proposal.signed"
    if complete:
        row.status = _outcome(row.status, verb)
        row.updated_at = now
    append_event(session, actor=user, action=action, subject=proposal_id, details=details, at=now)
    return complete


def _complete(decisions: Sequence[DecisionRow], approvers: int) -> bool:
    """A rejection decides; so do approvals by `approvers` different people."""
    if any(d.decision == "reject" for d in decisions):
        return True
    return len({d.user.casefold() for d in decisions if d.decision == "approve"}) >= approvers


def _outcome(status: str, decision: str) -> str:
    """The status a completed decision leaves: shadow proposals are never approved to run."""
    if status == ProposalStatus.SHADOWED:
        return status
    return _DECIDED[decision]


def audit_execution_start(
    session: Session, proposal_id: str, action: Action, *, now: datetime
) -> None:
    """Append the audit event that precedes every execution (the platform fails closed)."""
    row = proposal_row(session, proposal_id)
    append_event(
        session,
        actor=SYSTEM_ACTOR,
        action="action.started",
        subject=row.id,
        details={"action": action.model_dump(mode="json")},
        at=now,
    )


def add_action(session: Session, action: ActionRow, *, now: datetime) -> None:
    """Record an action taken for a proposal (no-op if its action id is recorded already)."""
    earlier = session.get(ActionRow, action.id)
    if earlier is not None:
        if earlier.proposal_id != action.proposal_id:
            raise LedgerError(
                f"action {action.id} belongs to proposal {earlier.proposal_id}, not "
                f"{action.proposal_id}; derive action ids from their proposal"
            )
        return
    row = proposal_row(session, action.proposal_id, lock=True)
    other = session.scalar(select(ActionRow.id).where(ActionRow.proposal_id == row.id))
    if other is not None:
        raise LedgerError(
            f"proposal {row.id} already has action {other}; an action runs at most once per "
            f"proposal, so action {action.id} was not recorded"
        )
    aware(action.executed_at, "executed_at")
    session.add(action)
    executed = action.status == ProposalStatus.EXECUTED
    row.status = ProposalStatus.EXECUTED if executed else ProposalStatus.FAILED
    row.updated_at = now
    details = {
        "action_id": action.id,
        "kind": action.kind,
        "subject": action.subject,
        "details": action.details,
        "read_back": action.read_back,
        "reference": action.reference,
        "status": action.status,
        "executed_at": action.executed_at,
        "message": action.message,
    }
    append_event(
        session,
        actor=SYSTEM_ACTOR,
        action="action.recorded",
        subject=row.id,
        details=details,
        at=now,
    )


def add_realized(
    session: Session,
    proposal_id: str,
    saving: RealizedSaving,
    *,
    now: datetime,
    baseline: Baseline,
) -> None:
    """Record the saving measured after acting (no-op if recorded already); status verified."""
    row = proposal_row(session, proposal_id)
    kinds = select(SavingRow.kind, SavingRow.currency).where(SavingRow.proposal_id == proposal_id)
    currencies = {kind: code for kind, code in session.execute(kinds)}
    if SavingKind.REALIZED in currencies:
        return
    if row.status != ProposalStatus.EXECUTED:
        raise LedgerError(
            f"proposal {proposal_id} is {row.status}; a realized saving can only be recorded "
            "after its action was executed (record_action with status 'executed')"
        )
    estimated_currency = currencies.get(SavingKind.ESTIMATED)
    if saving.currency != estimated_currency:
        raise LedgerError(
            f"realized saving of proposal {proposal_id} is in {saving.currency} but its estimate "
            f"is in {estimated_currency}; convert it to {estimated_currency} before recording"
        )
    session.add(
        SavingRow(
            proposal_id=proposal_id,
            kind=SavingKind.REALIZED,
            agent=row.agent,
            line=row.line,
            amount=money(saving.amount, "realized saving"),
            currency=currency(saving.currency),
            period_hours=saving.period_hours,
            baseline=baseline.model_dump(mode="json"),
            method=saving.method,
            recorded_at=now,
        )
    )
    row.status, row.updated_at = ProposalStatus.VERIFIED, now
    details = {**saving.model_dump(mode="json"), "baseline": baseline.model_dump(mode="json")}
    append_event(
        session,
        actor=SYSTEM_ACTOR,
        action="saving.realized",
        subject=proposal_id,
        details=details,
        at=now,
    )
