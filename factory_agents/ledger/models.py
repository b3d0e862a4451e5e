"""The ledger's tables (SQLAlchemy 2 typed models); Alembic migrations create them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from factory_agents.sqltypes import NAMING_CONVENTION, FineMoney, Money, UtcDateTime


class Base(DeclarativeBase):
    """Declarative base of every ledger table (constraints named, so migrations can alter them)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class AgentRun(Base):
    """One run of one agent: what it read, found, proposed and skipped."""

    __tablename__ = "agent_runs"
    __table_args__ = (Index("ix_agent_runs_agent_finished_at", "agent", "finished_at"),)

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
    __table_args__ = (Index("ix_proposals_agent_created_at", "agent", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: a run's row is written when the run finishes, after its proposals.
    run_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(100), index=True)
    line: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(400), index=True)
    title: Mapped[str] = mapped_column(String(400))
    rationale: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DecisionRow(Base):
    """One signature on a proposal: who, in which role, when, what, why, on which content."""

    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user", name="uq_decisions_signer"),
        Index("ix_decisions_decided_at", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    user: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    proposal_hash: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(20))
    areas: Mapped[list[Any] | None] = mapped_column()
    signed_at: Mapped[datetime | None]
    signature: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(12), server_default="unsigned")


class ActionRow(Base):
    """An action executed on the plant or the MES, keyed by its action id so it runs once."""

    __tablename__ = "actions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(400), index=True)
    details: Mapped[dict[str, Any]] = mapped_column()
    from_value: Mapped[float | None] = mapped_column(Float)
    to_value: Mapped[float | None] = mapped_column(Float)
    read_back: Mapped[float | None] = mapped_column(Float)
    reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    executed_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text, default="")


class SavingRow(Base):
    """An estimated or a realized saving of one proposal; the two kinds are never mixed."""

    __tablename__ = "savings"
    __table_args__ = (
        UniqueConstraint("proposal_id", "kind", name="uq_savings_proposal_kind"),
        Index(
            "ix_savings_realized_recorded_at",
            "recorded_at",
            sqlite_where=text("kind = 'realized'"),
            postgresql_where=text("kind = 'realized'"),
        ),
    )

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


class PlatformControl(Base):
    """The kill switch: one row saying whether the platform runs or is stopped, and why."""

    __tablename__ = "platform_control"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mode: Mapped[str] = mapped_column(String(10))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class AgentAutonomy(Base):
    """An agent's autonomy level (shadow, assisted, autonomous), who set it and why."""

    __tablename__ = "agent_autonomy"

    agent: Mapped[str] = mapped_column(String(100), primary_key=True)
    level: Mapped[str] = mapped_column(String(12))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class AgentSwitch(Base):
    """Whether an agent may propose (enabled) or not, who switched it and why."""

    __tablename__ = "agent_switches"

    agent: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)


class SavingsDaily(Base):
    """Savings summed per agent, line, currency and UTC day, kept by triggers on `savings`.

    The board reads these sums instead of scanning every saving. Amounts are in the currency
    (stored as cents, like `savings.amount`); the verified columns cover realized savings
    whose proposal has an estimate, as savings per hour (estimated over its horizon,
    realized over its verification window), summed, so their means compare like for like.
    """

    __tablename__ = "savings_daily"

    agent: Mapped[str] = mapped_column(String(100), primary_key=True)
    line: Mapped[str] = mapped_column(String(100), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    estimated_amount: Mapped[Decimal] = mapped_column(Money())
    estimated_count: Mapped[int] = mapped_column(Integer)
    realized_amount: Mapped[Decimal] = mapped_column(Money())
    realized_count: Mapped[int] = mapped_column(Integer)
    verified_count: Mapped[int] = mapped_column(Integer)
    verified_estimated_per_hour: Mapped[float] = mapped_column(Float)
    verified_realized_per_hour: Mapped[float] = mapped_column(Float)


class LlmUsage(Base):
    """One language-model call: task, model, tokens, cost, latency and whether it succeeded."""

    __tablename__ = "llm_usage"
    __table_args__ = (Index("ix_llm_usage_task_model", "task", "model"),)

    call_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(128), index=True)
    task: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    usage_reported: Mapped[bool]
    cost: Mapped[Decimal] = mapped_column(FineMoney())
    currency: Mapped[str] = mapped_column(String(3))
    latency_seconds: Mapped[float] = mapped_column(Float)
    call_ok: Mapped[bool]
    task_ok: Mapped[bool | None]
    error: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(index=True)


class ExplanationRow(Base):
    """A proposal's explanation for one version of its content, as shown to engineers."""

    __tablename__ = "explanations"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column()
    rejections: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_seq", "actor", "seq"),
        Index("ix_audit_events_action_seq", "action", "seq"),
        Index("ix_audit_events_at", "at"),
    )

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
