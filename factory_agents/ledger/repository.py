"""The Ledger: every write one transaction with its audit event, retried on writer races."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from factory_agents.actions import Action, SetpointChange
from factory_agents.agent import Baseline, Proposal, RealizedSaving
from factory_agents.errors import LedgerError
from factory_agents.ledger import control, export, language, queries, writes
from factory_agents.ledger.audit import AuditReport, verify_chain
from factory_agents.ledger.checks import aware, known_status
from factory_agents.ledger.export import ExportedReport, SignOff
from factory_agents.ledger.models import ActionRow, AuditEvent, ProposalRow
from factory_agents.ledger.session import create_ledger_engine, migrate, write_bind
from factory_agents.ledger.views import (
    ActionView,
    AgentSwitchView,
    AgentTotals,
    AuditEntry,
    AutonomyLevel,
    ControlView,
    ProposalStatus,
    ProposalView,
    SavingsLine,
    Signature,
    TrackRecord,
)

if TYPE_CHECKING:
    from factory_agents.llm.cost import UsageRecord
    from factory_agents.llm.explain import Explanation

T = TypeVar("T")
MAX_TRIES = 5
"""How often a write is tried when concurrent writers conflict with it."""


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Ledger:
    """Runs, proposals, decisions, actions and savings, with their hash-chained audit trail."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self._writer = write_bind(engine)
        self._clock = clock

    @classmethod
    def open(cls, url: str) -> Ledger:
        """Connect to the ledger at `url` and bring its schema up to date."""
        engine = create_ledger_engine(url)
        try:
            migrate(engine)
        except DBAPIError as err:
            engine.dispose()
            where = engine.url.render_as_string(hide_password=True)
            raise LedgerError(
                f"cannot open the ledger at {where}: {err.orig}; check that the database is "
                "reachable and the user may create tables"
            ) from err
        return cls(engine)

    def close(self) -> None:
        """Close the ledger's database connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_run(
        self,
        *,
        run_id: str,
        agent: str,
        started_at: datetime,
        finished_at: datetime,
        status: str,
        findings: int,
        proposals: int,
        skipped: dict[str, int],
        message: str = "",
    ) -> None:
        """Record one agent run (idempotent on run_id)."""
        self._write(
            f"record run {run_id}",
            lambda s: writes.add_run(
                s,
                now=self._now(),
                run_id=run_id,
                agent=agent,
                started_at=started_at,
                finished_at=finished_at,
                status=status,
                findings=findings,
                proposals=proposals,
                skipped=skipped,
                message=message,
            ),
        )

    def record_proposal(
        self,
        proposal: Proposal,
        *,
        run_id: str | None,
        expires_at: datetime,
        shadow: bool = False,
        exclusive_subject: bool = False,
    ) -> bool:
        """Record a proposal (pending, or shadowed) and its estimate; False if it exists. With
        `exclusive_subject`, SubjectOpen if another proposal is open on its subject: checked in
        the same transaction as the insert, behind the ledger's other writers."""
        return self._write(
            f"record proposal {proposal.proposal_id}",
            lambda s: writes.add_proposal(
                s,
                proposal,
                now=self._now(),
                run_id=run_id,
                expires_at=expires_at,
                shadow=shadow,
                exclusive_subject=exclusive_subject,
            ),
        )

    def begin_execution(self, proposal_id: str, action: Action) -> None:
        """Audit that an action is about to touch the plant; if this fails, nothing is executed."""
        self._write(
            f"audit the start of action {action.action_id}",
            lambda s: writes.audit_execution_start(s, proposal_id, action, now=self._now()),
        )

    def open_proposal_for(self, subject: str) -> str | None:
        """The newest proposal on `subject` still in flight (pending, approved or executed)."""
        return self._read(lambda s: queries.open_proposal_on(s, subject))

    def last_write_at(self, subject: str) -> datetime | None:
        """When an action last changed `subject` (a node, lots, ...), or None if none has."""
        stmt = select(func.max(ActionRow.executed_at)).where(
            ActionRow.subject == subject, ActionRow.status == "executed"
        )
        return self._read(lambda s: s.scalar(stmt))

    def get_proposal(self, proposal_id: str) -> ProposalView | None:
        """One proposal with its decision, action and savings; None if unknown."""
        views = self._read(lambda s: queries.proposal_views(s, proposal_id=proposal_id, limit=1))
        return views[0] if views else None

    def list_proposals(self, status: str | None = None, limit: int = 200) -> list[ProposalView]:
        """Proposals newest first, optionally only those with `status`."""
        if status is not None:
            known_status(status)
        return self._read(lambda s: queries.proposal_views(s, status=status, limit=limit))

    def proposals_of_run(self, run_id: str) -> list[ProposalView]:
        """The proposals one agent run recorded, newest first."""
        return self._read(lambda s: queries.proposal_views(s, run_id=run_id))

    def awaiting_decision(self, limit: int = 200) -> list[ProposalView]:
        """Pending proposals, and shadow proposals nobody has said what they would do about."""
        views = self._read(
            lambda s: queries.proposal_views(
                s, statuses=(ProposalStatus.PENDING, ProposalStatus.SHADOWED), limit=limit
            )
        )
        return [v for v in views if v.status == ProposalStatus.PENDING or not v.decisions]

    def set_status(self, proposal_id: str, status: str, *, actor: str, detail: str = "") -> None:
        """Move a proposal to `status` (audited; no-op if it is there already)."""
        self._write(
            f"set proposal {proposal_id} to {status}",
            lambda s: writes.change_status(
                s, proposal_id, status, now=self._now(), actor=actor, detail=detail
            ),
        )

    def record_decision(
        self, proposal_id: str, signature: Signature, *, approvers: int = 1
    ) -> bool:
        """Record one signature (idempotent per signer); True once the decision is complete."""
        return self._write(
            f"record {signature.user}'s {signature.decision} of proposal {proposal_id}",
            lambda s: writes.add_decision(
                s, proposal_id, signature, now=self._now(), approvers=approvers
            ),
        )

    def record_action(
        self,
        proposal_id: str,
        action: Action,
        *,
        status: str,
        executed_at: datetime,
        read_back: float | None = None,
        reference: str | None = None,
        message: str = "",
    ) -> None:
        """Record an action taken (idempotent on its action id); proposal executed or failed."""
        setpoint = action if isinstance(action, SetpointChange) else None

        def work(session: Session) -> None:
            row = ActionRow(
                id=action.action_id,
                proposal_id=proposal_id,
                kind=action.kind,
                subject=action.subject,
                details=action.model_dump(mode="json"),
                from_value=setpoint.from_value if setpoint else None,
                to_value=setpoint.to_value if setpoint else None,
                read_back=read_back,
                reference=reference,
                status=status,
                executed_at=executed_at,
                message=message,
            )
            writes.add_action(session, row, now=self._now())

        self._write(f"record action {action.action_id} of proposal {proposal_id}", work)

    def get_action(self, action_id: str) -> ActionView | None:
        """One recorded action; None if unknown."""

        def read(session: Session) -> ActionView | None:
            row = session.get(ActionRow, action_id)
            return queries.action_view(row) if row is not None else None

        return self._read(read)

    def record_realized(
        self, proposal_id: str, saving: RealizedSaving, *, baseline: Baseline
    ) -> None:
        """Record the saving measured after acting (idempotent); the proposal becomes verified."""
        self._write(
            f"record the realized saving of proposal {proposal_id}",
            lambda s: writes.add_realized(
                s, proposal_id, saving, now=self._now(), baseline=baseline
            ),
        )

    def savings_by_proposal(self, limit: int | None = None) -> list[SavingsLine]:
        """Estimated next to realized saving per proposal, newest first (all, or the newest N)."""
        return self._read(lambda session: queries.savings_lines(session, limit))

    def savings_totals(self) -> list[AgentTotals]:
        """Per agent and currency: estimated and realized sums, proposals and verified counts."""
        return self._read(queries.agent_totals)

    def control(self) -> ControlView:
        """The kill switch's state (running until someone stops the platform)."""
        return self._read(control.current)

    def set_control(self, mode: Literal["running", "stopped"], *, actor: str, reason: str) -> bool:
        """Stop or resume the platform (audited); False if it was in that mode already."""
        return self._write(
            f"set the platform {mode}",
            lambda s: control.change(s, mode, actor=actor, reason=reason, now=self._now()),
        )

    def autonomy(self, agent: str) -> AutonomyLevel:
        """The agent's autonomy level (assisted until someone changes it)."""
        return self._read(lambda s: control.autonomy_level(s, agent))

    def set_autonomy(self, agent: str, level: AutonomyLevel, *, actor: str, reason: str) -> bool:
        """Change an agent's autonomy level (audited); False if it was at that level already."""
        return self._write(
            f"set {agent} {level}",
            lambda s: control.change_autonomy(
                s, agent, level, actor=actor, reason=reason, now=self._now()
            ),
        )

    def agent_enabled(self, agent: str) -> bool:
        """Whether the agent may propose (enabled unless a manager disabled it)."""
        return self.agent_switch(agent).enabled

    def agent_switch(self, agent: str) -> AgentSwitchView:
        """Whether the agent is enabled, and who switched it last, when and why."""
        return self._read(lambda s: control.agent_switch(s, agent))

    def agent_switches(self) -> dict[str, AgentSwitchView]:
        """Every agent ever switched on or off, by name (agents not listed are enabled)."""
        return self._read(control.agent_switches)

    def set_agent_enabled(self, agent: str, enabled: bool, *, actor: str, reason: str) -> bool:
        """Enable or disable an agent (audited with who and why); False if it was so already."""
        if not reason.strip():
            raise LedgerError(
                f"say why {agent} is {'enabled' if enabled else 'disabled'}; the reason is kept"
                " in the audit trail"
            )
        return self._write(
            f"{'enable' if enabled else 'disable'} {agent}",
            lambda s: control.change_enabled(
                s, agent, enabled, actor=actor, reason=reason, now=self._now()
            ),
        )

    def track_record(self, agent: str, *, last: int = 50) -> TrackRecord:
        """What people decided about the agent's last proposals, and the adverse outcomes."""
        return self._read(lambda s: control.track_record(s, agent, last=last))

    def proposals_since(self, agent: str, since: datetime) -> int:
        """How many proposals `agent` has recorded since `since` (for its rate limit)."""
        stmt = select(func.count(ProposalRow.id)).where(
            ProposalRow.agent == agent, ProposalRow.created_at >= aware(since, "since")
        )
        return self._read(lambda s: s.scalar(stmt) or 0)

    def actions_since(self, subject: str, since: datetime) -> int:
        """How many actions were executed on `subject` since `since` (for its rate limit)."""
        stmt = select(func.count(ActionRow.id)).where(
            ActionRow.subject == subject,
            ActionRow.status == "executed",
            ActionRow.executed_at >= aware(since, "since"),
        )
        return self._read(lambda s: s.scalar(stmt) or 0)

    def record_usage(self, records: Sequence[UsageRecord]) -> None:
        """Store language-model calls (idempotent on call id)."""
        rows = [record.model_dump() for record in records]
        self._write("record model usage", lambda s: language.add_usage(s, rows))

    def usage(self, *, since: datetime | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
        """Language-model calls, newest first, as plain records."""
        return self._read(lambda s: language.usage(s, since=since, limit=limit))

    def record_explanation(self, explanation: Explanation) -> None:
        """Keep a proposal's explanation (audited when a model's explanation was refused)."""
        body = explanation.model_dump(mode="json")
        self._write(
            f"record the explanation of {explanation.proposal_id}",
            lambda s: language.add_explanation(s, body, now=self._now()),
        )

    def explanation(self, proposal_id: str, content_hash: str) -> dict[str, Any] | None:
        """The stored explanation of this version of the proposal (plain JSON), if any."""
        return self._read(lambda s: language.explanation(s, proposal_id, content_hash))

    def audit_events(self, subject: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """Audit events newest first, optionally only those about one proposal or run."""
        return self._read(lambda s: queries.audit_entries(s, subject=subject, limit=limit))

    def export_audit(
        self, start: datetime, end: datetime, folder: Path, sign_off: SignOff
    ) -> ExportedReport:
        """Write the period's events (CSV) and a signed-off report (HTML) into `folder`."""

        def read(session: Session) -> tuple[list[AuditEvent], AuditReport]:
            return export.events_between(session, start, end), verify_chain(session)

        events, chain = self._read(read)
        return export.export_report(
            events, chain, start=start, end=end, folder=folder, sign_off=sign_off, now=self._now()
        )

    def audit_report(self) -> AuditReport:
        """Verify the audit chain end to end."""
        return self._read(verify_chain)

    def _now(self) -> datetime:
        """The clock's time, checked to be timezone-aware."""
        return aware(self._clock(), "clock time")

    def _write(self, what: str, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction; retry it whole when concurrent writers collide."""
        last: DBAPIError | None = None
        for attempt in range(1, MAX_TRIES + 1):
            try:
                with Session(self._writer, expire_on_commit=False) as session, session.begin():
                    return work(session)
            except (IntegrityError, OperationalError) as err:
                last = err
                if attempt < MAX_TRIES:
                    time.sleep(random.uniform(0.0, 0.01 * 2**attempt))
            except DBAPIError as err:
                raise LedgerError(
                    f"the ledger refused to {what}: {err.orig}; nothing was written"
                ) from err
        assert last is not None
        raise LedgerError(
            f"could not {what} after {MAX_TRIES} tries: {last.orig}; nothing was written. "
            "Other writers kept conflicting or the database is locked or unreachable; try again"
        ) from last

    def _read(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a read-only session; database failures become LedgerError."""
        try:
            with Session(self.engine) as session:
                return work(session)
        except DBAPIError as err:
            raise LedgerError(
                f"could not read the ledger: {err.orig}; check that the database is reachable"
            ) from err
