"""Decision rules for the Update validator: proposal, role, area, four eyes, two approvers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from factory_agents.agent import RiskClass
from factory_agents.errors import ConfigurationError, ProposalError
from factory_agents.identity import (
    AuthenticationError,
    AuthorizationError,
    DecisionClaims,
    DecisionState,
    Role,
    SignedDecision,
    approvals_required,
    authorize_decision,
    require_area,
    require_four_eyes,
    require_may_decide,
    require_same_proposal,
    sign,
    tally,
)
from tests.identity.helpers import T0

KEY = bytes(range(32))
HASH = "ab" * 32


def _signed(**overrides: Any) -> SignedDecision:
    fields: dict[str, Any] = {
        "proposal_id": "prop-1",
        "meaning": "approve",
        "reason": "fill weight drifting high",
        "user_id": "alice",
        "full_name": "Alice Example",
        "role": Role.ENGINEER,
        "areas": ("site1/line1",),
        "proposal_hash": HASH,
        "signed_at": T0,
        **overrides,
    }
    return sign(DecisionClaims(**fields), KEY)


def test_a_decision_for_the_proposal_as_recorded_passes() -> None:
    require_same_proposal(_signed(), proposal_id="prop-1", content_hash=HASH)


def test_a_decision_signed_for_another_proposal_is_refused() -> None:
    with pytest.raises(ProposalError, match="signed for proposal prop-1, not prop-2"):
        require_same_proposal(_signed(), proposal_id="prop-2", content_hash=HASH)


def test_a_decision_on_other_content_than_recorded_is_refused() -> None:
    with pytest.raises(ProposalError, match=r"content hash differs.*reload"):
        require_same_proposal(_signed(), proposal_id="prop-1", content_hash="cd" * 32)


def test_engineers_may_decide() -> None:
    require_may_decide(_signed(role=Role.ENGINEER))


@pytest.mark.parametrize("role", [Role.MANAGER, Role.INTEGRATOR, Role.ADMIN])
def test_other_roles_may_not_decide(role: Role) -> None:
    with pytest.raises(AuthorizationError, match=f"signed as {role}, and only engineer may"):
        require_may_decide(_signed(role=role))


def test_a_decision_in_the_users_area_passes() -> None:
    require_area(_signed(areas=("site1",)), "site1/line1")
    require_area(_signed(areas=("*",)), "site2/line9")


def test_a_decision_outside_the_users_areas_is_refused() -> None:
    with pytest.raises(
        AuthorizationError,
        match="may decide in site1/line1, and this proposal belongs to site1/line2",
    ):
        require_area(_signed(), "site1/line2")


@pytest.mark.parametrize("requested_by", ["alice", "ALICE", ["spc_drift", "alice"]])
def test_the_requester_cannot_approve_their_own_request(requested_by: str | list[str]) -> None:
    with pytest.raises(AuthorizationError, match=r"alice requested this action.*four eyes"):
        require_four_eyes(_signed(), requested_by)


def test_someone_else_may_approve_an_agents_proposal() -> None:
    require_four_eyes(_signed(), "spc_drift")
    require_four_eyes(_signed(), ["spc_drift", "bob"])


def test_the_requester_may_withdraw_by_rejecting() -> None:
    require_four_eyes(_signed(meaning="reject"), "alice")


def test_high_risk_actions_need_two_approvers() -> None:
    assert approvals_required(RiskClass.HIGH) == 2
    assert approvals_required(RiskClass.MEDIUM) == 1
    assert approvals_required(RiskClass.LOW) == 1


def test_one_approval_completes_an_ordinary_decision() -> None:
    assert tally([], _signed(), required=1) is DecisionState.APPROVED


def test_two_different_approvers_complete_a_high_risk_decision() -> None:
    first = _signed()
    assert tally([], first, required=2) is DecisionState.NEEDS_ANOTHER_APPROVAL
    second = _signed(user_id="bob", full_name="Bob")
    assert tally([first], second, required=2) is DecisionState.APPROVED


def test_the_same_approver_twice_is_refused() -> None:
    first = _signed()
    again = _signed(user_id="Alice", signed_at=T0 + timedelta(minutes=1))
    with pytest.raises(AuthorizationError, match="alice has already approved"):
        tally([first], _signed(), required=2)
    with pytest.raises(AuthorizationError, match="Alice has already approved"):
        tally([first], again, required=2)


def test_a_rejection_ends_the_decision_even_after_an_approval() -> None:
    first = _signed()
    assert tally([first], _signed(meaning="reject"), required=2) is DecisionState.REJECTED
    assert tally([], _signed(meaning="reject"), required=1) is DecisionState.REJECTED


def test_tally_refuses_approvals_of_another_proposal_or_rejections_so_far() -> None:
    with pytest.raises(ProposalError, match="approvals so far must be approvals of prop-1"):
        tally([_signed(proposal_id="prop-9")], _signed(user_id="bob"), required=2)
    with pytest.raises(ProposalError, match="got a reject"):
        tally([_signed(meaning="reject")], _signed(user_id="bob"), required=2)
    with pytest.raises(ConfigurationError, match="at least one approver"):
        tally([], _signed(), required=0)


def _authorize(decision: SignedDecision, **overrides: Any) -> DecisionState:
    kwargs: dict[str, Any] = {
        "key": KEY,
        "now": T0 + timedelta(minutes=1),
        "proposal_id": "prop-1",
        "content_hash": HASH,
        "proposal_area": "site1/line1",
        "requested_by": "spc_drift",
        **overrides,
    }
    return authorize_decision(decision, **kwargs)


def test_authorize_decision_passes_a_good_decision_and_counts_approvers() -> None:
    first = _signed()
    assert _authorize(first) is DecisionState.APPROVED
    assert _authorize(first, required=2) is DecisionState.NEEDS_ANOTHER_APPROVAL
    second = _signed(user_id="bob", full_name="Bob", areas=("site1",))
    assert _authorize(second, approvals=[first], required=2) is DecisionState.APPROVED


@pytest.mark.parametrize(
    ("decision", "overrides", "error", "problem"),
    [
        (_signed(), {"key": bytes(32)}, AuthenticationError, "this worker holds key"),
        (
            _signed().model_copy(update={"user_id": "bob"}),
            {},
            AuthenticationError,
            "changed after signing",
        ),
        (_signed(), {"now": T0 + timedelta(hours=1)}, AuthenticationError, "more than 10 min"),
        (_signed(), {"proposal_id": "prop-2"}, ProposalError, "not prop-2"),
        (_signed(), {"content_hash": "cd" * 32}, ProposalError, "content hash differs"),
        (_signed(role=Role.MANAGER), {}, AuthorizationError, "signed as manager"),
        (_signed(), {"proposal_area": "site2/line1"}, AuthorizationError, "belongs to site2"),
        (_signed(), {"requested_by": "alice"}, AuthorizationError, "four eyes"),
        (
            _signed(),
            {"approvals": [_signed()], "required": 2},
            AuthorizationError,
            "already approved",
        ),
    ],
)
def test_authorize_decision_refuses_with_the_first_problem(
    decision: SignedDecision,
    overrides: dict[str, Any],
    error: type[Exception],
    problem: str,
) -> None:
    with pytest.raises(error, match=problem):
        _authorize(decision, **overrides)
