"""How a person's decision reaches a proposal: authenticate, sign what they saw, deliver it.

The CLI and the board both go through here, so a decision is always signed the same way:
the password is checked against the users file (with its lockout), the claims carry the
user's full name, deciding role and areas and the SHA-256 of the proposal as shown, and the
workflow's validator checks the signature, role, area and four-eyes rules before anything
happens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from factory_agents.identity import SignedDecision, UsersFile, claims_for, load_signing_key, sign
from factory_agents.settings import Settings
from workflows.client import send_decision
from workflows.contracts import DecisionOutcome


def signed_decision(
    settings: Settings,
    *,
    proposal_id: str,
    meaning: Literal["approve", "reject"],
    user_id: str,
    password: str,
    reason: str,
    proposal_hash: str,
) -> SignedDecision:
    """Authenticate the user and sign their decision on the proposal content they saw."""
    user = UsersFile.in_home(settings.home).authenticate(user_id, password)
    claims = claims_for(
        user,
        proposal_id=proposal_id,
        meaning=meaning,
        reason=reason,
        proposal_hash=proposal_hash,
        signed_at=datetime.now(UTC),
    )
    return sign(claims, load_signing_key(settings.home))


async def decide(
    settings: Settings,
    *,
    proposal_id: str,
    meaning: Literal["approve", "reject"],
    user_id: str,
    password: str,
    reason: str,
    proposal_hash: str,
) -> DecisionOutcome:
    """Sign the decision and deliver it; returns once the proposal has acted on it."""
    decision = signed_decision(
        settings,
        proposal_id=proposal_id,
        meaning=meaning,
        user_id=user_id,
        password=password,
        reason=reason,
        proposal_hash=proposal_hash,
    )
    return await send_decision(settings, decision)
