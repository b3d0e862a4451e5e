"""Signed decisions checked by an Update validator inside Temporal's workflow sandbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from factory_agents.identity import DecisionClaims, Role, install_worker_key, sign
from tests.identity.sandbox_workflow import SignedDecisionWorkflow

KEY = bytes(range(32))
HASH = "ab" * 32


def _signed(proposal_id: str, key: bytes = KEY, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "proposal_id": proposal_id,
        "meaning": "approve",
        "reason": "fill weight drifting high",
        "user_id": "alice",
        "full_name": "Alice Example",
        "role": Role.ENGINEER,
        "areas": ("site1",),
        "proposal_hash": HASH,
        "signed_at": datetime.now(UTC),
        **overrides,
    }
    return sign(DecisionClaims(**fields), key)


async def test_the_validator_refuses_bad_signatures_and_accepts_a_good_one(
    temporal_env: WorkflowEnvironment,
) -> None:
    install_worker_key(KEY)
    queue = f"identity-{uuid.uuid4().hex[:8]}"
    proposal_id = f"prop-{uuid.uuid4().hex[:8]}"
    async with Worker(temporal_env.client, task_queue=queue, workflows=[SignedDecisionWorkflow]):
        handle = await temporal_env.client.start_workflow(
            SignedDecisionWorkflow.run, HASH, id=proposal_id, task_queue=queue
        )
        refused = {
            "changed after signing": _signed(proposal_id).model_copy(update={"role": Role.ADMIN}),
            "this worker holds key": _signed(proposal_id, key=bytes(32)),
            "min ago": _signed(proposal_id, signed_at=datetime.now(UTC) - timedelta(hours=1)),
            "four eyes": _signed(proposal_id, user_id="spc_drift"),
            "belongs to site1/line1": _signed(proposal_id, areas=("site2",)),
            "only engineer may": _signed(proposal_id, role=Role.MANAGER),
            "not " + proposal_id: _signed("prop-other"),
        }
        for problem, decision in refused.items():
            with pytest.raises(WorkflowUpdateFailedError) as caught:
                await handle.execute_update(SignedDecisionWorkflow.decide, decision)
            assert problem in str(caught.value.cause), (problem, caught.value.cause)
        outcome = await handle.execute_update(SignedDecisionWorkflow.decide, _signed(proposal_id))
        assert outcome == "approve by Alice Example as engineer"
        assert await handle.result() == outcome
