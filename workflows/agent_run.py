"""AgentRunWorkflow: one scheduled run of one agent; starts a ProposalWorkflow per new proposal."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities import PlantActivities
    from workflows.contracts import AgentRunInput, AgentRunResult, ProposalInput, RunAgentInput
    from workflows.llm_activities import NEVER_RETRY, ExplainInput, LanguageActivities
    from workflows.proposal import ProposalWorkflow


@workflow.defn
class AgentRunWorkflow:
    """Runs one agent once; each new proposal gets its own workflow, id = proposal id."""

    @workflow.run
    async def run(self, inp: AgentRunInput) -> AgentRunResult:
        """Analyze, then hand each proposal to a ProposalWorkflow that outlives this run."""
        result = await workflow.execute_activity_method(
            PlantActivities.run_agent,
            RunAgentInput(agent=inp.agent, run_id=workflow.info().workflow_id),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        for ticket in result.tickets:
            try:
                await workflow.start_child_workflow(
                    ProposalWorkflow.run,
                    ProposalInput(
                        ticket=ticket,
                        policy=inp.policy,
                        verification_seconds=inp.verification_seconds,
                        escalate_after_seconds=inp.escalate_after_seconds,
                    ),
                    id=ticket.proposal_id,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                workflow.logger.info("proposal %s already has its workflow", ticket.proposal_id)
        if workflow.patched("explain-proposals"):
            for ticket in result.tickets:
                await self._explain(ticket.proposal_id)
        return result

    async def _explain(self, proposal_id: str) -> None:
        """Explain a new proposal for the board and the CLI; a failure never fails the run."""
        try:
            await workflow.execute_activity_method(
                LanguageActivities.explain_proposal,
                ExplainInput(proposal_id=proposal_id),
                start_to_close_timeout=timedelta(seconds=90),
                retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=NEVER_RETRY),
            )
        except ActivityError as err:
            workflow.logger.warning("proposal %s not explained: %s", proposal_id, err)
