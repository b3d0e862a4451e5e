"""AgentRunWorkflow: one scheduled run of one agent; starts a ProposalWorkflow per new proposal."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities import PlantActivities
    from workflows.contracts import AgentRunInput, AgentRunResult, ProposalInput, RunAgentInput
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
                    ),
                    id=ticket.proposal_id,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                workflow.logger.info("proposal %s already has its workflow", ticket.proposal_id)
        return result
