"""The ledger's tables (SQLAlchemy 2 typed models); Alembic migrations create them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, Float, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factory_agents.sqltypes import NAMING_CONVENTION, Money, UtcDateTime


class Base(DeclarativeBase):
    """Declarative base of every ledger table (constraints named, so migrations can alter them)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


class AgentRun(Base):
    """One run of one agent: what it read, found, proposed and skipped."""

    __tablename__ = "agent_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    findings: Mapped[int] = mapped_column(Integer, default=0)
    proposals: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str] = mapped_column(Text, default="")


class ProposalRow(Base):
    """A proposal as shown to the engineer, and where it stands in its lifecycle."""

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: a run's row is written when the run finishes, after its proposals.
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(100), index=True)
    line: Mapped[str] = mapped_column(String(100))
    node_id: Mapped[str] = mapped_column(String(400), index=True)
    title: Mapped[str] = mapped_column(String(400))
    rationale: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DecisionRow(Base):
    """An engineer's decision on a proposal: who, when, what, why, on which exact content."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(10))
    user: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    proposal_hash: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]


class ActionRow(Base):
    """An action executed on the plant, keyed by its action id so it runs at most once."""

    __tablename__ = "actions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    node_id: Mapped[str] = mapped_column(String(400))
    from_value: Mapped[float] = mapped_column(Float)
    to_value: Mapped[float] = mapped_column(Float)
    read_back: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    executed_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text, default="")


class SavingRow(Base):
    """An estimated or a realized saving of one proposal; the two kinds are never mixed."""

    __tablename__ = "savings"
    __table_args__ = (UniqueConstraint("proposal_id", "kind", name="uq_savings_proposal_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    agent: Mapped[str] = mapped_column(String(100), index=True)
    line: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    period_hours: Mapped[float] = mapped_column(Float)
    baseline: Mapped[dict[str, Any]] = mapped_column()
    method: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(index=True)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_events"

    # Assigned by append_event as the tail's seq + 1, so seq is dense: a gap means a deleted row
    # (database sequences skip numbers on rollback, which would look like tampering).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    details: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
