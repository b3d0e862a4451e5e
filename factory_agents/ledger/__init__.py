"""The ledger: what agents proposed, who decided, what was done and saved, and an audit trail."""

from __future__ import annotations

from factory_agents.ledger.audit import AuditReport
from factory_agents.ledger.repository import Ledger
from factory_agents.ledger.session import create_ledger_engine, migrate
from factory_agents.ledger.views import (
    ActionView,
    AgentTotals,
    AuditEntry,
    DecisionView,
    ProposalStatus,
    ProposalView,
    SavingKind,
    SavingsLine,
)

__all__ = [
    "ActionView",
    "AgentTotals",
    "AuditEntry",
    "AuditReport",
    "DecisionView",
    "Ledger",
    "ProposalStatus",
    "ProposalView",
    "SavingKind",
    "SavingsLine",
    "create_ledger_engine",
    "migrate",
]
