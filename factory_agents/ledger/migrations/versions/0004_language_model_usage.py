"""What the language layer did: every model call with its tokens and cost, and explanations.

- llm_usage: one row per model call (task, model, tokens, cost in 1e-8 units of the
  currency, latency, whether the call and its task succeeded), for cost per successful task;
- explanations: each proposal's explanation as shown (deterministic or by a model, with the
  numbers a model's explanation was rejected for).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    """The column type of every ledger time (UtcDateTime's implementation)."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create llm_usage and explanations."""
    op.create_table(
        "llm_usage",
        sa.Column("call_id", sa.String(36), nullable=False),
        sa.Column("task_id", sa.String(128), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("usage_reported", sa.Boolean(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("latency_seconds", sa.Float(), nullable=False),
        sa.Column("call_ok", sa.Boolean(), nullable=False),
        sa.Column("task_ok", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_llm_usage"),
    )
    op.create_index("ix_llm_usage_task_id", "llm_usage", ["task_id"])
    op.create_index("ix_llm_usage_at", "llm_usage", ["at"])
    op.create_index("ix_llm_usage_task_model", "llm_usage", ["task", "model"])
    op.create_table(
        "explanations",
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("rejections", sa.JSON(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", "content_hash", name="pk_explanations"),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name="fk_explanations_proposal_id_proposals"
        ),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("explanations")
    op.drop_index("ix_llm_usage_task_model", table_name="llm_usage")
    op.drop_index("ix_llm_usage_at", table_name="llm_usage")
    op.drop_index("ix_llm_usage_task_id", table_name="llm_usage")
    op.drop_table("llm_usage")
