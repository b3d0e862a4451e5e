"""Every action kind: proposals and actions name a subject, actions keep their whole content.

Setpoint changes were the only action; now lot holds, purchase requisitions, dispatch lists,
maintenance work orders, load plans and advice join them. `node_id` becomes `subject` (the
node, lots, material or equipment an action touches), the setpoint-only columns become
optional, and each action keeps its content (`details`, copied from its proposal for existing
rows) and the MES document it created (`reference`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rename node_id to subject, relax setpoint columns, add details and reference."""
    # A plain rename (SQLite 3.25+ and PostgreSQL): rebuilding `proposals` in batch mode would
    # drop a table that decisions, actions and savings reference.
    op.drop_index("ix_proposals_node_id", table_name="proposals")
    op.execute("ALTER TABLE proposals RENAME COLUMN node_id TO subject")
    op.create_index("ix_proposals_subject", "proposals", ["subject"])
    with op.batch_alter_table("actions") as batch:
        batch.alter_column("node_id", new_column_name="subject", existing_type=sa.String(400))
        batch.alter_column("from_value", existing_type=sa.Float(), nullable=True)
        batch.alter_column("to_value", existing_type=sa.Float(), nullable=True)
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reference", sa.String(200), nullable=True))
    actions = sa.table(
        "actions",
        sa.column("id", sa.String()),
        sa.column("proposal_id", sa.String()),
        sa.column("details", sa.JSON()),
    )
    proposals = sa.table("proposals", sa.column("id", sa.String()), sa.column("body", sa.JSON()))
    connection = op.get_bind()
    recorded = sa.select(actions.c.id, proposals.c.body).join(
        proposals, proposals.c.id == actions.c.proposal_id
    )
    for action_id, body in connection.execute(recorded).all():
        connection.execute(
            actions.update().where(actions.c.id == action_id).values(details=body["action"])
        )
    with op.batch_alter_table("actions") as batch:
        batch.alter_column("details", existing_type=sa.JSON(), nullable=False)
    op.create_index("ix_actions_subject", "actions", ["subject"])


def downgrade() -> None:
    """Back to setpoint-only actions (fails if other kinds were recorded)."""
    op.drop_index("ix_actions_subject", table_name="actions")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("reference")
        batch.drop_column("details")
        batch.alter_column("to_value", existing_type=sa.Float(), nullable=False)
        batch.alter_column("from_value", existing_type=sa.Float(), nullable=False)
        batch.alter_column("subject", new_column_name="node_id", existing_type=sa.String(400))
    op.drop_index("ix_proposals_subject", table_name="proposals")
    op.execute("ALTER TABLE proposals RENAME COLUMN subject TO node_id")
    op.create_index("ix_proposals_node_id", "proposals", ["node_id"])
