"""The Ledger: every write one transaction with its audit event, retried on writer races."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from factory_agents.agent import Baseline, Proposal, RealizedSaving
from factory_agents.errors import LedgerError
from factory_agents.ledger import queries, writes
from factory_agents.ledger.audit import AuditReport, verify_chain
from factory_agents.ledger.checks import aware, known_status
from factory_agents.ledger.models import ActionRow, ProposalRow
from factory_agents.ledger.session import create_ledger_engine, migrate, write_bind
from factory_agents.ledger.views import (
    OPEN_STATUSES,
    ActionView,
    AgentTotals,
    AuditEntry,
    ProposalView,
    SavingsLine,
)

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
        self, proposal: Proposal, *, run_id: str | None, expires_at: datetime
    ) -> bool:
        """Record a pending proposal and its estimated saving; False if its id exists already."""
        return self._write(
            f"record proposal {proposal.proposal_id}",
            lambda s: writes.add_proposal(
                s, proposal, now=self._now(), run_id=run_id, expires_at=expires_at
            ),
        )

    def open_proposal_for(self, node_id: str) -> str | None:
        """The newest proposal on `node_id` still in flight (pending, approved or executed)."""
        stmt = (
            select(ProposalRow.id)
            .where(ProposalRow.node_id == node_id, ProposalRow.status.in_(OPEN_STATUSES))
            .order_by(ProposalRow.created_at.desc())
            .limit(1)
        )
        return self._read(lambda s: s.scalar(stmt))

    def last_write_at(self, node_id: str) -> datetime | None:
        """When an action last changed `node_id` on the plant, or None if none has."""
        stmt = select(func.max(ActionRow.executed_at)).where(
            ActionRow.node_id == node_id, ActionRow.status == "executed"
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

    def set_status(self, proposal_id: str, status: str, *, actor: str, detail: str = "") -> None:
        """Move a proposal to `status` (audited; no-op if it is there already)."""
        self._write(
            f"set proposal {proposal_id} to {status}",
            lambda s: writes.change_status(
                s, proposal_id, status, now=self._now(), actor=actor, detail=detail
            ),
        )

    def record_decision(
        self,
        proposal_id: str,
        *,
        decision: Literal["approve", "reject"],
        user: str,
        reason: str,
        proposal_hash: str,
        at: datetime,
    ) -> None:
        """Record an engineer's decision; idempotent for the same decision by the same user."""
        self._write(
            f"record {user}'s {decision} of proposal {proposal_id}",
            lambda s: writes.add_decision(
                s,
                proposal_id,
                now=self._now(),
                decision=decision,
                user=user,
                reason=reason,
                proposal_hash=proposal_hash,
                at=at,
            ),
        )

    def record_action(
        self,
        *,
        action_id: str,
        proposal_id: str,
        kind: str,
        node_id: str,
        from_value: float,
        to_value: float,
        read_back: float | None,
        status: str,
        executed_at: datetime,
        message: str = "",
    ) -> None:
        """Record an action on the plant (idempotent on action_id); proposal executed or failed."""

        def work(session: Session) -> None:
            action = ActionRow(
                id=action_id,
                proposal_id=proposal_id,
                kind=kind,
                node_id=node_id,
                from_value=from_value,
                to_value=to_value,
                read_back=read_back,
                status=status,
                executed_at=executed_at,
                message=message,
            )
            writes.add_action(session, action, now=self._now())

        self._write(f"record action {action_id} of proposal {proposal_id}", work)

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

    def audit_events(self, subject: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """Audit events newest first, optionally only those about one proposal or run."""
        return self._read(lambda s: queries.audit_entries(s, subject=subject, limit=limit))

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
