"""How the board delivers an engineer's signed decision to the proposal's workflow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from factory_agents.errors import FactoryAgentsError
from factory_agents.settings import Settings
from workflows.decisions import decide as deliver

decide = deliver
"""The one way the board sends a decision (tests put a recording function in its place)."""


@dataclass(frozen=True)
class DecisionFeedback:
    """What the engineer is told after pressing Approve or Reject."""

    succeeded: bool
    message: str


def submit_decision(
    proposal_id: str,
    *,
    approve: bool,
    user: str,
    password: str,
    reason: str,
    proposal_hash: str,
) -> DecisionFeedback:
    """Check the form, sign the decision with the password, deliver it, report the outcome."""
    verb: Literal["approve", "reject"] = "approve" if approve else "reject"
    if not user.strip():
        return DecisionFeedback(False, f"Enter your user id to {verb} this proposal.")
    if not password:
        return DecisionFeedback(
            False, f"Enter your password to {verb} this proposal; it signs your decision."
        )
    if not reason.strip():
        return DecisionFeedback(
            False, f"Enter a reason to {verb} this proposal; it is kept with the decision."
        )
    try:
        outcome = asyncio.run(
            decide(
                Settings(),
                proposal_id=proposal_id,
                meaning=verb,
                user_id=user.strip(),
                password=password,
                reason=reason.strip(),
                proposal_hash=proposal_hash,
            )
        )
    except FactoryAgentsError as err:
        return DecisionFeedback(False, str(err))
    return DecisionFeedback(outcome.status != "failed", outcome.message)
