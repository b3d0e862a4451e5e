"""Signed decisions, the kill switch, agent autonomy, and an audit trail the database guards.

- decisions: one row per signature (high-risk actions take two approvers), each with the
  signer's full name, role, areas, signing time, HMAC signature and key id, and how it was
  made (signed by a person, automatic under earned autonomy, or unsigned from before 0003);
- platform_control: the kill switch (running or stopped), who set it, when and why;
- agent_autonomy: each agent's level (shadow, assisted, autonomous), who set it and why;
- audit_events: UPDATE and DELETE are refused by triggers on SQLite and PostgreSQL, and on
  PostgreSQL the application's role also loses the UPDATE, DELETE and TRUNCATE privileges.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit trail is append-only: events are never updated or deleted"


def _utc() -> sa.DateTime:
    """The column type of every ledger time (UtcDateTime's implementation)."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Signature columns, the control and autonomy tables, and append-only audit triggers."""
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("uq_decisions_proposal_id", type_="unique")
        batch.add_column(sa.Column("full_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("role", sa.String(20), nullable=True))
        batch.add_column(sa.Column("areas", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("signed_at", _utc(), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(64), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("method", sa.String(12), nullable=False, server_default="unsigned")
        )
        batch.create_unique_constraint("uq_decisions_signer", ["proposal_id", "user"])
        batch.create_index("ix_decisions_proposal_id", ["proposal_id"])
    op.create_table(
        "platform_control",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("changed_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_platform_control"),
    )
    op.create_table(
        "agent_autonomy",
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("level", sa.String(12), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("changed_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("agent", name="pk_agent_autonomy"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY}';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
            " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM CURRENT_USER")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events"
                f" BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    """Back to 0002 (fails if a proposal has two signatures)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO CURRENT_USER")
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.drop_table("agent_autonomy")
    op.drop_table("platform_control")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_index("ix_decisions_proposal_id")
        batch.drop_constraint("uq_decisions_signer", type_="unique")
        for column in ("method", "key_id", "signature", "signed_at", "areas", "role", "full_name"):
            batch.drop_column(column)
        batch.create_unique_constraint("uq_decisions_proposal_id", ["proposal_id"])
