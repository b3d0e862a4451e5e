"""Ledger fixtures: a fresh ledger on SQLite and on PostgreSQL, and a proposal factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from factory_agents.agent import Proposal
from factory_agents.ledger import Ledger
from tests.factories import build_proposal

MakeProposal = Callable[..., Proposal]


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """A migrated, empty ledger."""
    with Ledger.open(ledger_url) as opened:
        yield opened


@pytest.fixture
def make_proposal() -> MakeProposal:
    """A factory of small, valid proposals; keyword arguments override the defaults."""
    return build_proposal
