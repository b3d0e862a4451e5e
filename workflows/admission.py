"""Admitting an agent's proposal: what may enter the approval queue, and with which ticket.

A proposal is withheld (and the run record says why) when another proposal is open on the
same subject, when it breaks a guardrail, when its agent has used up its hourly rate, while
its agent is disabled (a manager switched it off), or while the kill switch is on (agents are
read-only then). An admitted proposal is recorded (as a shadow proposal if its agent is in
shadow mode) and gets the ticket its workflow carries: its area, who requested it, how many
approvers it needs, and its autonomy. A run whose activity is retried after recording a
proposal gets the same ticket again, so no recorded proposal is ever left without its workflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from factory_agents.agent import Proposal
from factory_agents.errors import GuardrailViolation, SubjectOpen
from factory_agents.ledger.repository import Ledger
from factory_agents.ledger.views import AutonomyLevel
from factory_agents.policy import Policy
from factory_agents.settings import Settings
from workflows.contracts import ProposalTicket

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Withheld:
    """Why a proposal did not enter the queue: a reason key for the run record, and a sentence."""

    reason: str
    message: str


@dataclass
class RunAdmission:
    """An agent run's proposals after admission: re-issued, newly admitted, and withheld."""

    reissued: list[ProposalTicket] = field(default_factory=list)
    admitted: list[ProposalTicket] = field(default_factory=list)
    withheld: list[tuple[Proposal, Withheld]] = field(default_factory=list)

    @property
    def tickets(self) -> list[ProposalTicket]:
        """Every ticket the run's workflow starts a proposal workflow for."""
        return self.reissued + self.admitted


class Admission:
    """Decides, against the ledger and the policy, whether proposals enter the queue."""

    def __init__(self, settings: Settings, ledger: Ledger, policy: Policy) -> None:
        self.settings = settings
        self.ledger = ledger
        self.policy = policy

    def admit(self, proposal: Proposal, run_id: str, now: datetime) -> ProposalTicket | Withheld:
        """Record the proposal and return its ticket, or say why it was withheld."""
        action = proposal.action
        recorded = self.ledger.get_proposal(proposal.proposal_id)
        if recorded is not None:
            if recorded.run_id == run_id:  # this run's activity, retried: the same ticket
                return self._ticket(
                    proposal, recorded.expires_at, self.ledger.autonomy(proposal.agent)
                )
            return Withheld("already_proposed", f"{proposal.proposal_id} was proposed already")
        control = self.ledger.control()
        if control.stopped:
            return Withheld(
                "platform_stopped",
                f"proposal withheld: the platform was stopped by {control.changed_by}"
                f" ({control.reason}); agents are read-only until `factory-agents resume`",
            )
        switch = self.ledger.agent_switch(proposal.agent)
        if not switch.enabled:
            return Withheld(
                "agent_disabled",
                f"proposal withheld: {proposal.agent} was disabled by {switch.changed_by}"
                f" ({switch.reason}); a manager enables it again on the board's Agents page",
            )
        open_id = self.ledger.open_proposal_for(action.subject)
        if open_id is not None and open_id != proposal.proposal_id:
            return Withheld(
                "open_proposal_on_subject", f"{open_id} is still open on {action.subject}"
            )
        try:
            self.policy.classify(action)
        except GuardrailViolation as err:
            return Withheld("guardrail", f"proposal withheld: {err}")
        limit = self.policy.rate_limits.proposals_per_agent_per_hour
        if self.ledger.proposals_since(proposal.agent, now - HOUR) >= limit:
            return Withheld(
                "rate_limited",
                f"proposal withheld: {proposal.agent} already made {limit} proposals in the last"
                " hour, the policy's limit",
            )
        autonomy = self.ledger.autonomy(proposal.agent)
        expires = proposal.created_at + timedelta(seconds=self.settings.proposal_ttl_seconds)
        try:
            recorded_now = self.ledger.record_proposal(
                proposal,
                run_id=run_id,
                expires_at=expires,
                shadow=autonomy == AutonomyLevel.SHADOW,
                exclusive_subject=True,
            )
        except SubjectOpen as err:  # recorded by another worker since the check above
            return Withheld("open_proposal_on_subject", str(err))
        if not recorded_now:
            return Withheld("already_proposed", f"{proposal.proposal_id} was proposed already")
        recorded = self.ledger.get_proposal(proposal.proposal_id)
        expires_at = recorded.expires_at if recorded is not None else expires
        return self._ticket(proposal, expires_at, autonomy)

    def admit_run(self, proposals: Sequence[Proposal], run_id: str) -> RunAdmission:
        """Admit an agent run's proposals. What an earlier attempt of this run recorded gets its
        ticket again and keeps its subject: an activity killed after recording a proposal must not
        leave it without a workflow, even if the retry's fresher data proposes under another id."""
        recorded = [
            self._ticket(view.proposal, view.expires_at, self.ledger.autonomy(view.agent))
            for view in reversed(self.ledger.proposals_of_run(run_id))
        ]
        taken = {ticket.action.subject for ticket in recorded}
        result = RunAdmission(reissued=recorded)
        for proposal in proposals:
            if proposal.action.subject in taken:
                continue
            admitted = self.admit(proposal, run_id, datetime.now(UTC))
            if isinstance(admitted, Withheld):
                result.withheld.append((proposal, admitted))
            else:
                result.admitted.append(admitted)
        return result

    def _ticket(
        self, proposal: Proposal, expires_at: datetime, autonomy: AutonomyLevel
    ) -> ProposalTicket:
        """The ticket a recorded proposal's workflow carries."""
        action_class = self.policy.classify(proposal.action)
        return ProposalTicket(
            proposal_id=proposal.proposal_id,
            agent=proposal.agent,
            title=proposal.title,
            content_hash=proposal.content_hash(),
            action=proposal.action,
            counters=proposal.counters,
            estimated_amount=proposal.estimated_saving.amount,
            currency=proposal.estimated_saving.currency,
            expires_at=expires_at,
            area=f"{self.settings.site}/{proposal.line}",
            requested_by=proposal.agent,
            approvers=action_class.approvers,
            autonomy=autonomy,
            may_run_autonomously=action_class.may_run_autonomously,
            measure_until=proposal.measure_until,
        )
