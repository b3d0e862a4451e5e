"""Money in the ledger is exact: Decimal in, the same Decimal out, and exact sums in SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from factory_agents.agent import Proposal
from factory_agents.errors import LedgerError
from factory_agents.ledger import Ledger

MakeProposal = Callable[..., Proposal]
LATER = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("amount", ["0.01", "0.10", "125.40", "99999999.99", "-3.20", "7"])
def test_amounts_come_back_as_the_same_decimal(
    ledger: Ledger, make_proposal: MakeProposal, amount: str
) -> None:
    ledger.record_proposal(make_proposal(amount=Decimal(amount)), run_id=None, expires_at=LATER)
    view = ledger.get_proposal("prop-1")
    assert view is not None
    assert view.estimated_amount == Decimal(amount)
    assert isinstance(view.estimated_amount, Decimal)
    assert view.proposal.estimated_saving.amount == Decimal(amount)


def test_sums_in_sql_are_exact(ledger: Ledger, make_proposal: MakeProposal) -> None:
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("0.30")] * 10 + [Decimal("1234567.89")]
    for i, amount in enumerate(amounts):
        proposal = make_proposal(f"p{i}", node_id=f"n{i}", amount=amount)
        ledger.record_proposal(proposal, run_id=None, expires_at=LATER)
    (totals,) = ledger.savings_totals()
    assert totals.estimated_total == sum(amounts) == Decimal("1234573.89")
    assert totals.realized_total == Decimal("0.00")
    assert totals.proposals == len(amounts)


@pytest.mark.parametrize("amount", ["NaN", "Infinity"])
def test_non_finite_amounts_are_refused(
    ledger: Ledger, make_proposal: MakeProposal, amount: str
) -> None:
    valid = make_proposal()
    # pydantic refuses these too; model_copy skips validation, as a careless caller might
    bad_saving = valid.estimated_saving.model_copy(update={"amount": Decimal(amount)})
    bad = valid.model_copy(update={"estimated_saving": bad_saving})
    with pytest.raises(LedgerError, match="not a finite Decimal amount"):
        ledger.record_proposal(bad, run_id=None, expires_at=LATER)
    assert ledger.list_proposals() == []


def test_a_currency_that_is_not_iso_4217_is_refused(
    ledger: Ledger, make_proposal: MakeProposal
) -> None:
    with pytest.raises(LedgerError, match="not an ISO 4217 code"):
        ledger.record_proposal(make_proposal(currency="euro"), run_id=None, expires_at=LATER)
