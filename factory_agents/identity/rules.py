"""Pure decision rules for the workflow's Update validator: signature, role, area, four eyes.

No I/O and no clock (the caller passes `now`), so every function is safe inside the
Temporal sandbox. Each refusal raises AuthenticationError, AuthorizationError or
ProposalError with a sentence saying what was wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from factory_agents.agent import RiskClass
from factory_agents.errors import AuthorizationError, ConfigurationError, ProposalError
from factory_agents.identity.roles import Permission, covers, may, roles_with
from factory_agents.identity.signing import MAX_AGE, MAX_SKEW, SignedDecision, verify


class DecisionState(StrEnum):
    """Where a proposal's decision stands after a signed decision has been counted."""

    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_ANOTHER_APPROVAL = "needs_another_approval"


def approvals_required(risk: RiskClass) -> int:
    """How many different approvers an action of this risk class needs: two if high, else one."""
    return 2 if risk == RiskClass.HIGH else 1


def require_same_proposal(decision: SignedDecision, *, proposal_id: str, content_hash: str) -> None:
    """Refuse a decision signed for another proposal, or for other content than recorded."""
    if decision.proposal_id != proposal_id:
        raise ProposalError(
            f"this decision was signed for proposal {decision.proposal_id}, not {proposal_id};"
            " nothing was done. Decide on the proposal you mean"
        )
    if decision.proposal_hash != content_hash:
        raise ProposalError(
            "the proposal you saw is not the one recorded (content hash differs); reload it"
            " and decide again"
        )


def require_may_decide(decision: SignedDecision) -> None:
    """Refuse a decision signed under a role that may not decide proposals."""
    if not may(decision.role, Permission.DECIDE_PROPOSALS):
        allowed = " or ".join(roles_with(Permission.DECIDE_PROPOSALS))
        raise AuthorizationError(
            f"{decision.user_id} signed as {decision.role}, and only {allowed} may approve or"
            " reject proposals; nothing was done. Ask an engineer of this area to decide"
        )


def require_area(decision: SignedDecision, proposal_area: str) -> None:
    """Refuse a decision by a user whose areas do not cover the proposal's area."""
    if not covers(decision.areas, proposal_area):
        areas = ", ".join(decision.areas)
        raise AuthorizationError(
            f"{decision.user_id} may decide in {areas}, and this proposal belongs to"
            f" {proposal_area}; nothing was done. Ask an engineer of {proposal_area}"
        )


def require_four_eyes(decision: SignedDecision, requested_by: str | Iterable[str]) -> None:
    """Refuse an approval by whoever proposed or requested the action (user id or agent name)."""
    # A rejection by them is allowed: it withdraws their own request and executes nothing.
    if decision.meaning != "approve":
        return
    requesters = (requested_by,) if isinstance(requested_by, str) else tuple(requested_by)
    if _same_person(decision.user_id, requesters):
        raise AuthorizationError(
            f"{decision.user_id} requested this action and cannot also approve it (four eyes);"
            " nothing was done. Another engineer must approve"
        )


def tally(
    approvals: Sequence[SignedDecision], new: SignedDecision, *, required: int
) -> DecisionState:
    """Count a new decision after the approvals so far: approved, rejected, or one more needed."""
    # A rejection ends the decision. An approval completes it once `required` different users
    # have approved; the same user approving twice is refused with AuthorizationError.
    if required < 1:
        raise ConfigurationError(f"a decision needs at least one approver, not {required}")
    for earlier in approvals:
        if earlier.meaning != "approve" or earlier.proposal_id != new.proposal_id:
            raise ProposalError(
                f"approvals so far must be approvals of {new.proposal_id}; got a"
                f" {earlier.meaning} of {earlier.proposal_id}"
            )
    if new.meaning == "reject":
        return DecisionState.REJECTED
    signers = [a.user_id for a in approvals]
    if _same_person(new.user_id, signers):
        raise AuthorizationError(
            f"{new.user_id} has already approved this proposal; it needs {required} different"
            " approvers, so another engineer must approve. Nothing was done twice"
        )
    distinct = len({s.casefold() for s in signers}) + 1
    return DecisionState.APPROVED if distinct >= required else DecisionState.NEEDS_ANOTHER_APPROVAL


def authorize_decision(
    decision: SignedDecision,
    *,
    key: bytes,
    now: datetime,
    proposal_id: str,
    content_hash: str,
    proposal_area: str,
    requested_by: str | Iterable[str],
    approvals: Sequence[SignedDecision] = (),
    required: int = 1,
    max_age: timedelta = MAX_AGE,
    max_skew: timedelta = MAX_SKEW,
) -> DecisionState:
    """Run every check (signature, proposal, role, area, four eyes, approvers); the new state."""
    verify(decision, key, now=now, max_age=max_age, max_skew=max_skew)
    require_same_proposal(decision, proposal_id=proposal_id, content_hash=content_hash)
    require_may_decide(decision)
    require_area(decision, proposal_area)
    require_four_eyes(decision, requested_by)
    return tally(approvals, decision, required=required)


def _same_person(user_id: str, others: Iterable[str]) -> bool:
    """Whether a user id is among others, ignoring case and surrounding spaces."""
    me = user_id.strip().casefold()
    return any(me == o.strip().casefold() for o in others)
