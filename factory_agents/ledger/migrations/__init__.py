"""Alembic migrations of the ledger (shipped in the wheel, run by factory_agents.ledger.migrate)."""
