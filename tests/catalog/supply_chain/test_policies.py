"""Exact periodic-review (s, S) and (r, nQ) policies, and the policy comparison engineers read."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from factory_agents.catalog.supply_chain import inventory as inv

Sampler = Callable[[np.random.Generator, int], np.ndarray]


def _poisson_model(
    mean: float, k: float, h: float, p: float, lead: int = 0
) -> inv.PeriodicReviewModel:
    return inv.PeriodicReviewModel(
        demand=inv.DiscreteDemand.poisson(mean),
        lead_time_periods=lead,
        ordering_cost=k,
        holding_cost_per_unit_period=h,
        backorder_cost_per_unit_period=p,
        periods_per_year=52,
    )


# Zheng & Federgruen (1991), "Finding optimal (s, S) policies is about as simple as evaluating a
# single policy", Operations Research 39(4):654-665: test problems with Poisson demand, h = 1,
# p = 9, K = 64, no lead time. The optimal (s, S) and cost per period below are those reproduced
# in R. Rossi's inventoryanalytics (zhengfedergruen1991_test.py) for means 10, 20 and 64.
@pytest.mark.parametrize(
    ("mean", "s", "big_s", "cost"),
    [(10, 6, 40, 35.02156), (20, 14, 62, 49.17304), (64, 55, 74, 78.40232)],
)
def test_zheng_federgruen_instances(mean: float, s: int, big_s: int, cost: float) -> None:
    policy = inv.optimal_min_max_policy(_poisson_model(mean, k=64, h=1, p=9))
    assert (policy.reorder_level, policy.order_up_to) == (s, big_s)
    assert policy.cost_per_period == pytest.approx(cost, abs=1e-4)


def test_snyder_and_shen_exact_min_max_example() -> None:
    # Snyder & Shen, FoSCT 2nd ed., Example 4.7 (Algorithm 4.2, exact (s, S) for discrete demand):
    # Poisson(6), h = 1, p = 4, K = 5 → s* = 4, S* = 10, g(s*, S*) = 8.0341; base stock y* = 8.
    policy = inv.optimal_min_max_policy(_poisson_model(6, k=5, h=1, p=4))
    assert (policy.reorder_level, policy.order_up_to) == (4, 10)
    assert policy.cost_per_period == pytest.approx(8.0341, abs=1e-4)
    assert policy.base_stock_level == 8


def test_zheng_federgruen_search_finds_the_grid_minimum() -> None:
    model = _poisson_model(5, k=20, h=1, p=5, lead=1)
    policy = inv.optimal_min_max_policy(model)
    grid = min(
        (inv.min_max_policy_cost(model, s, big_s), s, big_s)
        for s in range(-5, 25)
        for big_s in range(s + 1, 45)
    )
    assert (policy.reorder_level, policy.order_up_to) == (grid[1], grid[2])
    assert policy.cost_per_period == pytest.approx(grid[0])


def _simulate(
    sample: Sampler,
    lead: int,
    reorder_level: int,
    order_up_to: int,
    costs: tuple[float, float, float],
    periods: int,
    multiples_of_q: bool = False,
) -> tuple[float, float]:
    """Review before demand, order arrives `lead` periods later, costs on end-of-period stock."""
    k, h, p = costs
    demand = sample(np.random.default_rng(17), periods)
    position = net = order_up_to
    arrivals: dict[int, int] = {}
    total = 0.0
    orders = 0
    warm_up = 1_000
    for t in range(periods):
        if position <= reorder_level:
            if multiples_of_q:
                q = order_up_to - reorder_level
                quantity = ((reorder_level - position) // q + 1) * q
            else:
                quantity = order_up_to - position
            position += quantity
            arrivals[t + lead] = arrivals.get(t + lead, 0) + quantity
            orders += t >= warm_up
            total += k if t >= warm_up else 0.0
        net += arrivals.pop(t, 0)
        net -= int(demand[t])
        position -= int(demand[t])
        if t >= warm_up:
            total += h * max(net, 0) + p * max(-net, 0)
    return total / (periods - warm_up), orders / (periods - warm_up)


def test_min_max_cost_with_a_lead_time_agrees_with_simulation() -> None:
    model = _poisson_model(10, k=64, h=1, p=9, lead=2)
    policy = inv.optimal_min_max_policy(model)
    simulated, orders = _simulate(
        lambda rng, n: rng.poisson(10, n),
        2,
        policy.reorder_level,
        policy.order_up_to,
        (64, 1, 9),
        200_000,
    )
    assert simulated == pytest.approx(policy.cost_per_period, rel=0.01)
    assert orders * 52 == pytest.approx(policy.evaluation.orders_per_year, rel=0.01)


def test_reorder_point_policy_under_periodic_review_agrees_with_simulation() -> None:
    model = _poisson_model(10, k=64, h=1, p=9, lead=2)
    evaluation = inv.evaluate_policy(inv.ReorderPointPolicy(40, 35), model)
    simulated, orders = _simulate(
        lambda rng, n: rng.poisson(10, n), 2, 40, 75, (64, 1, 9), 200_000, multiples_of_q=True
    )
    assert simulated == pytest.approx(evaluation.total_cost / 52, rel=0.01)
    assert orders == pytest.approx(evaluation.orders_per_year / 52, rel=0.01)


def test_empirical_discrete_demand_with_a_lead_time_agrees_with_simulation() -> None:
    observed = [0, 1, 1, 2, 2, 2, 3, 3, 4, 6]
    demand = inv.DiscreteDemand.from_observations(observed)
    assert demand.pmf == pytest.approx((0.1, 0.2, 0.3, 0.2, 0.1, 0.0, 0.1))
    assert demand.mean == pytest.approx(2.4)
    assert demand.std == pytest.approx(math.sqrt(8.4 - 2.4**2))  # E[D²] = 8.4 by hand
    model = inv.PeriodicReviewModel(demand, 1, 15, 1, 6, 365)
    policy = inv.optimal_min_max_policy(model)
    simulated, _ = _simulate(
        lambda rng, n: rng.choice(observed, n),
        1,
        policy.reorder_level,
        policy.order_up_to,
        (15, 1, 6),
        200_000,
    )
    assert simulated == pytest.approx(policy.cost_per_period, rel=0.015)


def test_min_max_cost_splits_into_its_components() -> None:
    model = _poisson_model(10, k=64, h=1, p=9)
    evaluation = inv.evaluate_policy(inv.MinMaxPolicy(6, 40), model)
    assert evaluation.total_cost / 52 == pytest.approx(35.02156, abs=1e-4)
    assert evaluation.ordering_cost == pytest.approx(64 * evaluation.orders_per_year)
    assert evaluation.holding_cost == pytest.approx(52 * evaluation.average_on_hand)


def test_min_max_policy_must_have_room_between_s_and_big_s() -> None:
    with pytest.raises(ValueError, match="must exceed the reorder level"):
        inv.min_max_policy_cost(_poisson_model(10, 64, 1, 9), 40, 40)
    with pytest.raises(ValueError, match="whole units"):
        inv.evaluate_policy(inv.ReorderPointPolicy(40.5, 35), _poisson_model(10, 64, 1, 9))


def test_discrete_demand_rejects_fractional_observations() -> None:
    with pytest.raises(ValueError, match="count in order units"):
        inv.DiscreteDemand.from_observations([1, 2.5, 3])  # type: ignore[list-item]


# ---------------------------------------------------------------------------------------------
# compare_policies


def _harvey() -> inv.ContinuousReviewModel:
    # Nahmias, POA 6th ed., section 5.4 (Harvey's Specialty Shop), see test_inventory_models.py
    return inv.ContinuousReviewModel(200, inv.LeadTimeDemand(100, 25), 50, 3, 25, unit="jars")


def test_comparison_prices_both_policies_and_the_saving() -> None:
    model = _harvey()
    eoq = inv.eoq(200, 50, 3).order_quantity
    best = inv.optimal_reorder_policy(model)
    current = inv.ReorderPointPolicy(reorder_point=100, order_quantity=eoq)
    proposed = inv.ReorderPointPolicy(best.reorder_point, best.order_quantity)
    comparison = inv.compare_policies(current, proposed, model)

    # the current policy, priced by integrating the normal lead-time demand directly
    density = norm(100, 25).pdf

    def backlog(y: float) -> float:
        return float(integrate.quad(lambda x: (x - y) * density(x), y, np.inf)[0])

    short = backlog(100) - backlog(100 + eoq)
    average_backlog = integrate.quad(backlog, 100, 100 + eoq)[0] / eoq
    assert float(comparison.current.shortage) == pytest.approx(25 * 200 * short / eoq, abs=0.01)
    assert float(comparison.current.holding) == pytest.approx(
        3 * (eoq / 2 + average_backlog), abs=0.01
    )
    assert float(comparison.current.ordering) == pytest.approx(50 * 200 / eoq, abs=0.01)
    # Nahmias' textbook cost of the optimum, h·(Q/2 + R − λτ) + K·λ/Q + p·λ·n(R)/Q, by hand:
    # 3·(46.49 + 39.78) + 50·200/92.97 + 25·200·(25·G(1.591))/92.97 = 258.8 + 107.6 + 31.9 = 398.3;
    # the exact backorder terms add under 0.3.
    q, r = best.order_quantity, best.reorder_point
    textbook = (
        3 * (q / 2 + r - 100)
        + 50 * 200 / q
        + 25 * 200 * 25 * inv.standard_normal_loss((r - 100) / 25) / q
    )
    assert float(comparison.proposed.total) == pytest.approx(textbook, abs=0.3)

    for cost in (comparison.current, comparison.proposed):
        assert cost.total == cost.holding + cost.shortage + cost.ordering
        assert cost.total.as_tuple().exponent == -2
    assert comparison.saving == comparison.current.total - comparison.proposed.total
    assert comparison.saving == (
        comparison.holding_saving + comparison.shortage_saving + comparison.ordering_saving
    )
    assert comparison.saving > Decimal(400)
    assert comparison.shortage_saving > 0 > comparison.holding_saving
    assert comparison.currency == "EUR"
    assert comparison.inputs["shortage cost p"] == "25 EUR/jars short"
    assert comparison.inputs["std of lead-time demand σ"] == "25 jars"
    assert any("normal" in a for a in comparison.assumptions)
    assert comparison.current.policy.startswith("(r, Q) = (100, 81.6")


def test_comparison_of_min_max_policies_uses_the_exact_periodic_cost() -> None:
    model = _poisson_model(10, k=64, h=1, p=9)
    comparison = inv.compare_policies(inv.MinMaxPolicy(10, 30), inv.MinMaxPolicy(6, 40), model)
    # 35.02156 per week (Zheng & Federgruen's optimum) × 52 weeks
    assert float(comparison.proposed.total) == pytest.approx(35.02156 * 52, abs=0.02)
    assert comparison.saving > 0
    assert comparison.inputs["lead time L"] == "0 periods"
    assert any("Zheng & Federgruen" in a for a in comparison.assumptions)


def test_a_min_max_policy_under_continuous_review_is_r_equals_s_and_q_equals_the_gap() -> None:
    model = _harvey()
    as_min_max = inv.evaluate_policy(inv.MinMaxPolicy(140, 233), model)
    as_reorder_point = inv.evaluate_policy(inv.ReorderPointPolicy(140, 93), model)
    assert as_min_max == as_reorder_point


def test_comparing_a_policy_with_itself_saves_nothing() -> None:
    policy = inv.ReorderPointPolicy(140, 93)
    comparison = inv.compare_policies(policy, policy, _harvey())
    assert comparison.saving == Decimal("0.00")
    assert math.isclose(comparison.current.safety_stock, 40)


def test_comparison_lists_where_the_lead_time_demand_came_from() -> None:
    ltd = inv.lead_time_demand(20, 4, 5, 1)  # σ = √(5·4² + 20²·1²) = √480
    model = inv.ContinuousReviewModel(20 * 250, ltd, 50, 3, 25, unit="kg")
    comparison = inv.compare_policies(
        inv.ReorderPointPolicy(100, 200), inv.ReorderPointPolicy(130, 200), model
    )
    assert comparison.inputs["std of lead-time demand σ"] == f"{math.sqrt(480):g} kg"
    assert comparison.inputs["mean lead time L"] == "5 periods"
    assert comparison.inputs["std of lead time σ_L"] == "1 periods"
    assert comparison.inputs["std of demand per period σ_D"] == "4 kg"
    # 30 more units of safety stock: about 3 × 30 = 90 more holding, fewer units short
    assert float(comparison.holding_saving) == pytest.approx(-90, abs=5)
    assert comparison.shortage_saving > 0
    assert comparison.ordering_saving == 0
