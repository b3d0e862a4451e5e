"""Initial ledger: runs, proposals, decisions, actions, savings and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    """The column type of every ledger time (UtcDateTime's implementation)."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the ledger's tables and indexes."""
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent_runs"),
    )
    op.create_index("ix_agent_runs_agent", "agent_runs", ["agent"])

    op.create_table(
        "proposals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("line", sa.String(100), nullable=False),
        sa.Column("node_id", sa.String(400), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
    )
    op.create_index("ix_proposals_run_id", "proposals", ["run_id"])
    op.create_index("ix_proposals_agent", "proposals", ["agent"])
    op.create_index("ix_proposals_node_id", "proposals", ["node_id"])
    op.create_index("ix_proposals_status", "proposals", ["status"])
    op.create_index("ix_proposals_created_at", "proposals", ["created_at"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposal_hash", sa.String(64), nullable=False),
        sa.Column("decided_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_decisions_proposal_id_proposals"
        ),
        sa.UniqueConstraint("proposal_id", name="uq_decisions_proposal_id"),
    )

    op.create_table(
        "actions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("node_id", sa.String(400), nullable=False),
        sa.Column("from_value", sa.Float(), nullable=False),
        sa.Column("to_value", sa.Float(), nullable=False),
        sa.Column("read_back", sa.Float(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("executed_at", _utc(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_actions"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_actions_proposal_id_proposals"
        ),
        sa.UniqueConstraint("proposal_id", name="uq_actions_proposal_id"),
    )

    op.create_table(
        "savings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("line", sa.String(100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_hours", sa.Float(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_savings"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_savings_proposal_id_proposals"
        ),
        sa.UniqueConstraint("proposal_id", "kind", name="uq_savings_proposal_kind"),
    )
    op.create_index("ix_savings_proposal_id", "savings", ["proposal_id"])
    op.create_index("ix_savings_agent", "savings", ["agent"])
    op.create_index("ix_savings_recorded_at", "savings", ["recorded_at"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])


def downgrade() -> None:
    """Drop the ledger's tables, dependents first."""
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_savings_recorded_at", table_name="savings")
    op.drop_index("ix_savings_agent", table_name="savings")
    op.drop_index("ix_savings_proposal_id", table_name="savings")
    op.drop_table("savings")
    op.drop_table("actions")
    op.drop_table("decisions")
    op.drop_index("ix_proposals_created_at", table_name="proposals")
    op.drop_index("ix_proposals_status", table_name="proposals")
    op.drop_index("ix_proposals_node_id", table_name="proposals")
    op.drop_index("ix_proposals_agent", table_name="proposals")
    op.drop_index("ix_proposals_run_id", table_name="proposals")
    op.drop_table("proposals")
    op.drop_index("ix_agent_runs_agent", table_name="agent_runs")
    op.drop_table("agent_runs")
