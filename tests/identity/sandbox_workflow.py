"""A workflow whose Update validator checks signed decisions, as ProposalWorkflow will."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from factory_agents.identity import SignedDecision, authorize_decision, worker_key


@workflow.defn
class SignedDecisionWorkflow:
    """Waits for one signed decision on a proposal whose content hash is its input."""

    @workflow.init
    def __init__(self, content_hash: str) -> None:
        self._content_hash = content_hash
        self._decided: str | None = None

    @workflow.run
    async def run(self, content_hash: str) -> str:
        """Return who decided what, once a decision has passed the validator."""
        await workflow.wait_condition(lambda: self._decided is not None)
        assert self._decided is not None
        return self._decided

    @workflow.update
    async def decide(self, decision: SignedDecision) -> str:
        """Take a decision the validator accepted."""
        self._decided = f"{decision.meaning} by {decision.full_name} as {decision.role}"
        return self._decided

    @decide.validator
    def _validate(self, decision: SignedDecision) -> None:
        """Pure checks only: the sandbox allows no I/O and the clock is workflow.now()."""
        authorize_decision(
            decision,
            key=worker_key(),
            now=workflow.now(),
            proposal_id=workflow.info().workflow_id,
            content_hash=self._content_hash,
            proposal_area="site1/line1",
            requested_by="spc_drift",
        )
