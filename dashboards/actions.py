"""How the board delivers an engineer's decision to the proposal's workflow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from factory_agents.errors import FactoryAgentsError
from factory_agents.settings import Settings
from workflows.client import send_decision

decide = send_decision
"""The one way the board sends a decision (tests put a recording function in its place)."""


@dataclass(frozen=True)
class DecisionFeedback:
    """What the engineer is told after pressing Approve or Reject."""

    succeeded: bool
    message: str


def submit_decision(
    proposal_id: str, *, approve: bool, user: str, reason: str, proposal_hash: str
) -> DecisionFeedback:
    """Check signature and reason, deliver the decision on the content shown, report the outcome."""
    verb = "approve" if approve else "reject"
    if not user.strip():
        return DecisionFeedback(
            False, f"Enter your name to {verb} this proposal; it signs the decision."
        )
    if not reason.strip():
        return DecisionFeedback(
            False, f"Enter a reason to {verb} this proposal; it is kept with the decision."
        )
    try:
        outcome = asyncio.run(
            decide(
                Settings(),
                proposal_id,
                approve=approve,
                user=user.strip(),
                reason=reason.strip(),
                proposal_hash=proposal_hash,
            )
        )
    except FactoryAgentsError as err:
        return DecisionFeedback(False, str(err))
    return DecisionFeedback(True, outcome.message)
