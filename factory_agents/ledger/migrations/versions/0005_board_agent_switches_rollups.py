"""The board at scale: agent on/off switches, daily savings sums kept by triggers, indexes.

- agent_switches: whether an agent may propose (a disabled agent's proposals are withheld),
  who switched it, when and why (each change is also in the audit trail);
- savings_daily: savings summed per agent, line, currency and UTC day, kept up to date by a
  trigger on every insert into savings (savings are written once, never changed), with the
  like-for-like sums per hour of verified proposals; existing savings are summed in here;
- indexes for the board's newest-first lists: an agent's proposals and runs by time,
  decisions by time, realized savings by time (a partial index: realized ones only), audit
  events by actor, action and time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_agent_runs_agent_finished_at", "agent_runs", ["agent", "finished_at"]),
    ("ix_proposals_agent_created_at", "proposals", ["agent", "created_at"]),
    ("ix_decisions_decided_at", "decisions", ["decided_at"]),
    ("ix_audit_events_actor_seq", "audit_events", ["actor", "seq"]),
    ("ix_audit_events_action_seq", "audit_events", ["action", "seq"]),
    ("ix_audit_events_at", "audit_events", ["at"]),
)
REALIZED_INDEX = "ix_savings_realized_recorded_at"
SUMS = (
    "estimated_amount",
    "estimated_count",
    "realized_amount",
    "realized_count",
    "verified_count",
    "verified_estimated_per_hour",
    "verified_realized_per_hour",
)
COLUMNS = "agent, line, currency, day, " + ", ".join(SUMS)


def _utc() -> sa.DateTime:
    """The column type of every ledger time (UtcDateTime's implementation)."""
    return sa.DateTime(timezone=True)


def _day(column: str, dialect: str) -> str:
    """SQL for the UTC day (YYYY-MM-DD) of a ledger time column."""
    if dialect == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"substr({column}, 1, 10)"  # SQLite keeps naive UTC as 'YYYY-MM-DD HH:MM:SS...'


def _new_row_values(dialect: str) -> str:
    """SELECT list of one savings_daily row for the saving NEW, given its estimate's `rate`."""
    return f"""
        NEW.agent, NEW.line, NEW.currency, {_day("NEW.recorded_at", dialect)},
        CASE WHEN NEW.kind = 'estimated' THEN NEW.amount ELSE 0 END,
        CASE WHEN NEW.kind = 'estimated' THEN 1 ELSE 0 END,
        CASE WHEN NEW.kind = 'realized' THEN NEW.amount ELSE 0 END,
        CASE WHEN NEW.kind = 'realized' THEN 1 ELSE 0 END,
        CASE WHEN rate IS NULL THEN 0 ELSE 1 END,
        COALESCE(rate, 0),
        CASE WHEN rate IS NULL THEN 0 ELSE NEW.amount / 100.0 / NEW.period_hours END
    """


def _estimate_rate(alias: str = "s") -> str:
    """SQL for the estimated saving per hour of NEW's proposal, when NEW is a realized one."""
    return f"""
        SELECT {alias}.amount / 100.0 / {alias}.period_hours FROM savings {alias}
        WHERE NEW.kind = 'realized' AND NEW.period_hours > 0
          AND {alias}.proposal_id = NEW.proposal_id AND {alias}.kind = 'estimated'
          AND {alias}.period_hours > 0
    """


def _on_conflict(table: str) -> str:
    """The upsert clause adding a new row's sums to the day's existing ones."""
    sums = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUMS)
    return f"ON CONFLICT (agent, line, currency, day) DO UPDATE SET {sums}"


def _create_trigger(dialect: str) -> None:
    """The trigger adding every new saving to its day's sums."""
    if dialect == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION savings_daily_add() RETURNS trigger AS $$
            DECLARE
                rate double precision;
            BEGIN
                rate := ({_estimate_rate()});
                INSERT INTO savings_daily ({COLUMNS})
                SELECT {_new_row_values(dialect)}
                {_on_conflict("savings_daily")};
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER savings_daily_add AFTER INSERT ON savings"
            " FOR EACH ROW EXECUTE FUNCTION savings_daily_add()"
        )
        return
    op.execute(
        f"""
        CREATE TRIGGER savings_daily_add AFTER INSERT ON savings
        BEGIN
            INSERT INTO savings_daily ({COLUMNS})
            SELECT {_new_row_values(dialect)}
            FROM (SELECT ({_estimate_rate()}) AS rate)
            WHERE true
            {_on_conflict("savings_daily")};
        END
        """
    )


def _backfill(dialect: str) -> None:
    """Sum the savings recorded before this migration into savings_daily."""
    day = _day("r.recorded_at", dialect)
    op.execute(
        f"""
        INSERT INTO savings_daily ({COLUMNS})
        SELECT r.agent, r.line, r.currency, {day},
            SUM(CASE WHEN r.kind = 'estimated' THEN r.amount ELSE 0 END),
            SUM(CASE WHEN r.kind = 'estimated' THEN 1 ELSE 0 END),
            SUM(CASE WHEN r.kind = 'realized' THEN r.amount ELSE 0 END),
            SUM(CASE WHEN r.kind = 'realized' THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.id IS NULL THEN 0 ELSE 1 END),
            SUM(CASE WHEN e.id IS NULL THEN 0 ELSE e.amount / 100.0 / e.period_hours END),
            SUM(CASE WHEN e.id IS NULL THEN 0 ELSE r.amount / 100.0 / r.period_hours END)
        FROM savings r
        LEFT JOIN savings e ON r.kind = 'realized' AND r.period_hours > 0
            AND e.proposal_id = r.proposal_id AND e.kind = 'estimated' AND e.period_hours > 0
        GROUP BY r.agent, r.line, r.currency, {day}
        """
    )


def upgrade() -> None:
    """Create agent_switches, savings_daily (filled, then kept by a trigger) and the indexes."""
    dialect = op.get_bind().dialect.name
    op.create_table(
        "agent_switches",
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("changed_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("agent", name="pk_agent_switches"),
    )
    op.create_table(
        "savings_daily",
        sa.Column("agent", sa.String(100), nullable=False),
        sa.Column("line", sa.String(100), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("estimated_amount", sa.BigInteger(), nullable=False),
        sa.Column("estimated_count", sa.Integer(), nullable=False),
        sa.Column("realized_amount", sa.BigInteger(), nullable=False),
        sa.Column("realized_count", sa.Integer(), nullable=False),
        sa.Column("verified_count", sa.Integer(), nullable=False),
        sa.Column("verified_estimated_per_hour", sa.Float(), nullable=False),
        sa.Column("verified_realized_per_hour", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("agent", "line", "currency", "day", name="pk_savings_daily"),
    )
    _backfill(dialect)
    _create_trigger(dialect)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    realized = sa.text("kind = 'realized'")
    op.create_index(
        REALIZED_INDEX, "savings", ["recorded_at"], sqlite_where=realized, postgresql_where=realized
    )


def downgrade() -> None:
    """Back to 0004: drop the indexes, the trigger and both tables."""
    op.drop_index(REALIZED_INDEX, table_name="savings")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER savings_daily_add ON savings")
        op.execute("DROP FUNCTION savings_daily_add()")
    else:
        op.execute("DROP TRIGGER savings_daily_add")
    op.drop_table("savings_daily")
    op.drop_table("agent_switches")
