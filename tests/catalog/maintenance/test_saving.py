"""Saving of a planned work order: hand-computed amounts and probabilities from scipy."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from scipy import stats

from factory_agents.catalog.maintenance.rul import RulEstimate, estimate_rul
from factory_agents.catalog.maintenance.saving import (
    FailureCosts,
    planned_work_saving,
    saving_from_rul,
)

COSTS = FailureCosts(
    unplanned_downtime_hours=8.0,
    downtime_cost_per_hour=Decimal("2500"),
    collateral_damage_cost=Decimal("5000"),
    planned_work_cost=Decimal("3000"),
)


def test_saving_by_hand() -> None:
    # failure cost 8 h x 2500 + 5000 = 25000; avoided (0.6 - 0.1) x 25000 = 12500;
    # planned job spent unless the failure comes first: (1 - 0.1) x 3000 = 2700
    saving = planned_work_saving(0.1, 0.6, COSTS, stop_in_hours=48, horizon_hours=500)
    assert COSTS.failure_cost == Decimal("25000.0")
    assert saving.expected_failure_cost_avoided == Decimal("12500.00")
    assert saving.expected_planned_cost == Decimal("2700.00")
    assert saving.amount == Decimal("9800.00")
    assert saving.worth_doing
    assert saving.inputs["planned_work_cost"] == 3000.0
    assert any("residual risk" in a for a in saving.assumptions)


def test_a_failure_that_will_come_before_the_stop_makes_the_order_worthless() -> None:
    saving = planned_work_saving(0.95, 0.99, COSTS, stop_in_hours=48, horizon_hours=500)
    # (0.99 - 0.95) x 25000 - 0.05 x 3000 = 1000 - 150
    assert saving.amount == Decimal("850.00")
    unlikely = planned_work_saving(0.0, 0.05, COSTS, stop_in_hours=48, horizon_hours=500)
    assert unlikely.amount == Decimal("-1750.00")  # 0.05 x 25000 - 3000
    assert not unlikely.worth_doing


def test_probabilities_come_from_the_trend_as_scipy_computes_them() -> None:
    hours = np.arange(0.0, 21.0)
    y = 2 + 0.5 * hours + np.random.default_rng(9).normal(0, 0.5, hours.size)
    rul = estimate_rul(hours, y, threshold=17.0)
    assert isinstance(rul, RulEstimate) and rul.fit.model == "linear"
    saving = saving_from_rul(rul, COSTS, stop_in_hours=6.0, horizon_hours=30.0)

    ref = stats.linregress(hours, y)
    s = math.sqrt(np.sum((y - ref.intercept - ref.slope * hours) ** 2) / (hours.size - 2))

    sxx = float(np.sum((hours - hours.mean()) ** 2))

    def p_by(t: float) -> float:
        se = s * math.sqrt(1 / hours.size + (t - hours.mean()) ** 2 / sxx)
        return float(stats.t.sf((17.0 - ref.intercept - ref.slope * t) / se, hours.size - 2))

    p_stop, p_horizon = p_by(20 + 6.0), p_by(20 + 30.0)
    assert saving.probability_failure_before_stop == pytest.approx(p_stop, rel=1e-9)
    assert saving.probability_failure_within_horizon == pytest.approx(p_horizon, rel=1e-9)
    by_hand = Decimal(repr(p_horizon - p_stop)) * Decimal(25000) - Decimal(
        repr(1 - p_stop)
    ) * Decimal(3000)
    assert abs(saving.amount - by_hand) <= Decimal("0.01")
    assert saving.inputs["failure_threshold"] == 17.0
    assert any("linear trend" in a for a in saving.assumptions)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="stop_in_hours <= horizon_hours"):
        planned_work_saving(0.1, 0.2, COSTS, stop_in_hours=100, horizon_hours=50)
    with pytest.raises(ValueError, match="P\\(failure before stop\\) <= P"):
        planned_work_saving(0.3, 0.2, COSTS, stop_in_hours=10, horizon_hours=50)
    with pytest.raises(ValueError, match="collateral_damage_cost must be a finite Decimal"):
        FailureCosts(8.0, Decimal("1"), Decimal("-5"), Decimal("1"))
    with pytest.raises(ValueError, match="ISO 4217"):
        FailureCosts(8.0, Decimal("1"), Decimal("5"), Decimal("1"), currency="euro")
