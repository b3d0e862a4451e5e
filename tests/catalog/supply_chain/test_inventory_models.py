"""EOQ, newsvendor, loss function and (r, Q) against published textbook values and simulation."""

from __future__ import annotations

import itertools
import math
import random
from collections import deque

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm, poisson

from factory_agents.catalog.supply_chain import inventory as inv

# ---------------------------------------------------------------------------------------------
# the standard normal loss function


@pytest.mark.parametrize(
    ("k", "tabulated"),
    [(0.0, 0.3989), (1.0, 0.0833), (2.0, 0.0085), (0.5, 0.1978), (1.5, 0.0293), (3.0, 0.0004)],
)
def test_standard_normal_loss_matches_the_printed_table(k: float, tabulated: float) -> None:
    # Nahmias, Production and Operations Analysis, 6th ed., Table A-4 (L(z), 4 decimals);
    # the same G(k) values are in Silver, Pyke & Thomas, 4th ed., Appendix II.
    assert inv.standard_normal_loss(k) == pytest.approx(tabulated, abs=5e-5)


def test_loss_function_identity_for_negative_safety_factors() -> None:
    # G(−k) = E[(Z + k)⁺] = E[(k − Z)⁺] (Z symmetric) = E[(Z − k)⁺] + E[k − Z] = G(k) + k
    for k in (0.3, 1.0, 2.5):
        assert inv.standard_normal_loss(-k) == pytest.approx(inv.standard_normal_loss(k) + k)


def test_loss_function_is_the_expected_shortfall_of_a_standard_normal() -> None:
    for k in (-1.2, 0.0, 0.7, 2.2):
        numeric, _ = integrate.quad(lambda z, k=k: (z - k) * norm.pdf(z), k, np.inf)
        assert inv.standard_normal_loss(k) == pytest.approx(numeric, rel=1e-9)


def test_second_order_loss_is_the_integral_of_the_loss_function() -> None:
    for k in (-0.5, 0.0, 1.3):
        numeric, _ = integrate.quad(inv.standard_normal_loss, k, 40)
        assert inv.second_order_standard_normal_loss(k) == pytest.approx(numeric, rel=1e-7)


@pytest.mark.parametrize("k", [-2.0, 0.0, 0.8416, 2.33, 4.0])
def test_inverse_loss_returns_the_safety_factor(k: float) -> None:
    assert inv.inverse_standard_normal_loss(inv.standard_normal_loss(k)) == pytest.approx(k)


def test_inverse_loss_needs_a_positive_target() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        inv.inverse_standard_normal_loss(0.0)


# ---------------------------------------------------------------------------------------------
# EOQ


def test_eoq_of_the_campus_bookstore_pencils() -> None:
    # Nahmias, Production and Operations Analysis, 6th ed., Example 4.1 (section 4.5): pencils sell
    # 60 a week (λ = 3,120/yr), cost 2 cents, K = $12, 25 % a year (h = 0.005): Q* = 3,870.
    result = inv.eoq(annual_demand=60 * 52, ordering_cost=12, holding_cost_per_unit_year=0.005)
    assert round(result.order_quantity) == 3870
    assert result.annual_ordering_cost == pytest.approx(result.annual_holding_cost)


def test_eoq_and_its_cost_match_snyder_and_shen() -> None:
    # Snyder & Shen, Fundamentals of Supply Chain Theory, 2nd ed., Example 3.1:
    # K = 8, h = 0.225, λ = 1,300 → Q* = 304.05, g(Q*) = 68.41.
    result = inv.eoq(1300, 8, 0.225)
    assert result.order_quantity == pytest.approx(304.0468, abs=1e-3)
    assert result.total_relevant_cost == pytest.approx(68.4105, abs=1e-3)
    assert result.total_relevant_cost == pytest.approx(math.sqrt(2 * 8 * 1300 * 0.225))


def test_eoq_is_the_minimum_of_the_total_relevant_cost() -> None:
    q = inv.eoq(1300, 8, 0.225).order_quantity
    best = inv.eoq_total_relevant_cost(q, 1300, 8, 0.225)
    for other in (0.8 * q, 0.99 * q, 1.01 * q, 1.25 * q):
        assert inv.eoq_total_relevant_cost(other, 1300, 8, 0.225) > best


def test_eoq_refuses_negative_demand() -> None:
    with pytest.raises(ValueError, match="annual demand D must be positive, got -5"):
        inv.eoq(-5, 8, 0.225)


# ---------------------------------------------------------------------------------------------
# newsvendor


def test_newsvendor_normal_matches_snyder_and_shen() -> None:
    # Snyder & Shen, FoSCT 2nd ed., Example 4.3: h = 0.18, p = 0.70, D ~ N(50, 8²)
    # → S* = 56.60, g(S*) = 1.9976 (h is the overage and p the underage cost).
    solution = inv.newsvendor_normal(50, 8, underage_cost=0.70, overage_cost=0.18)
    assert solution.quantity == pytest.approx(56.6040, abs=1e-3)
    assert solution.expected_cost == pytest.approx(1.9976, abs=1e-4)
    assert solution.critical_ratio == pytest.approx(0.70 / 0.88)


def test_newsvendor_cost_of_a_given_quantity_matches_snyder_and_shen() -> None:
    # Snyder & Shen, FoSCT 2nd ed., Example 4.1 (same data): g(60) = 2.1561.
    assert inv.newsvendor_normal_cost(60, 50, 8, 0.70, 0.18) == pytest.approx(2.1561, abs=1e-4)


def test_newsvendor_for_macs_computer_journal() -> None:
    # Nahmias, POA 6th ed., section 5.3 (Mac's newsstand): cost 25 ¢, price 75 ¢, salvage 10 ¢,
    # so Cu = 0.50, Co = 0.15, critical ratio 0.77; demand N(11.73, 4.74²); z = 0.74 and
    # Q* = 4.74 · 0.74 + 11.73 = 15.24 ≈ 15 copies (the book rounds z to two decimals).
    solution = inv.newsvendor_normal(11.73, 4.74, underage_cost=0.50, overage_cost=0.15)
    assert solution.critical_ratio == pytest.approx(0.77, abs=0.005)
    assert solution.quantity == pytest.approx(15.24, abs=0.05)
    assert round(solution.quantity) == 15


def test_newsvendor_optimum_costs_cu_plus_co_times_sigma_phi() -> None:
    solution = inv.newsvendor_normal(200, 30, underage_cost=4, overage_cost=1)
    z = norm.ppf(0.8)
    assert solution.expected_cost == pytest.approx(5 * 30 * norm.pdf(z))
    for q in (solution.quantity - 5, solution.quantity + 5):
        assert inv.newsvendor_normal_cost(q, 200, 30, 4, 1) > solution.expected_cost


def test_newsvendor_discrete_with_poisson_demand_matches_snyder_and_shen() -> None:
    # Snyder & Shen, FoSCT 2nd ed., Example 4.7: Poisson(6), h = 1, p = 4 → S* = 8,
    # g(8) = 3.5701 (the base-stock level of the (s, S) example).
    support = list(range(41))
    solution = inv.newsvendor_discrete(
        support, [poisson.pmf(d, 6) for d in support], underage_cost=4, overage_cost=1
    )
    assert solution.quantity == 8
    assert solution.expected_cost == pytest.approx(3.5701, abs=1e-4)


def test_newsvendor_empirical_distribution_by_hand() -> None:
    # Five equally likely observations, Cu = 3, Co = 1 → ratio 0.75; F(20) = 0.6, F(30) = 0.8 so
    # Q* = 30. Short: 0.2·(40 − 30) = 2 units → 6; left: 0.2·20 + 0.4·10 = 8 units → 8; cost 14.
    observations = [20, 10, 40, 20, 30]
    solution = inv.newsvendor_discrete(observations, underage_cost=3, overage_cost=1)
    assert solution.quantity == 30
    assert solution.expected_units_short == pytest.approx(2.0)
    assert solution.expected_units_left_over == pytest.approx(8.0)
    assert solution.expected_cost == pytest.approx(14.0)
    for q in (20, 40):
        cost = inv.newsvendor_discrete_cost(q, observations, underage_cost=3, overage_cost=1)
        assert cost > solution.expected_cost


def test_newsvendor_discrete_checks_its_probabilities() -> None:
    with pytest.raises(ValueError, match=r"sum to 0\.9"):
        inv.newsvendor_discrete([1, 2], [0.5, 0.4], underage_cost=1, overage_cost=1)
    with pytest.raises(ValueError, match="must not be negative"):
        inv.newsvendor_discrete([-1, 2], underage_cost=1, overage_cost=1)


# ---------------------------------------------------------------------------------------------
# lead-time demand and reorder points


def test_lead_time_demand_with_lead_time_uncertainty_matches_chopra_and_meindl() -> None:
    # Chopra & Meindl, Supply Chain Management, chapter on safety inventory ("evaluating safety
    # inventory given lead time uncertainty"): D = 2,500/day, σ_D = 500, L = 7 days, s_L = 7 days
    # → σ_L = 17,550 and safety inventory at a 90 % cycle service level = 22,491.
    ltd = inv.lead_time_demand(2500, 500, 7, 7)
    assert ltd.mean == pytest.approx(17_500)
    assert ltd.std == pytest.approx(17_550, abs=1)
    point = inv.reorder_point_for_cycle_service(ltd, 0.90)
    assert point.safety_stock == pytest.approx(22_491, abs=2)


def test_lead_time_demand_variance_agrees_with_monte_carlo() -> None:
    # L uniform on {3, …, 7} (mean 5, variance 2), daily demand N(20, 4²):
    # σ² = 5·16 + 20²·2 = 880.
    ltd = inv.lead_time_demand(20, 4, 5, math.sqrt(2))
    assert ltd.std == pytest.approx(math.sqrt(880))
    rng = np.random.default_rng(11)
    lead_times = rng.integers(3, 8, size=40_000)
    totals = np.array([rng.normal(20, 4, size=n).sum() for n in lead_times])
    assert totals.mean() == pytest.approx(ltd.mean, rel=0.01)
    assert totals.std(ddof=1) == pytest.approx(ltd.std, rel=0.02)


def test_safety_stock_grows_with_lead_time_variability() -> None:
    stocks = [
        inv.reorder_point_for_cycle_service(inv.lead_time_demand(40, 8, 10, sl), 0.95).safety_stock
        for sl in (0.0, 0.5, 1.0, 2.0, 4.0)
    ]
    assert all(a < b for a, b in itertools.pairwise(stocks))


def test_cycle_service_reorder_point_of_harveys_mustard() -> None:
    # Nahmias, POA 6th ed., section 5.5 (Harvey's Specialty Shop, Type 1 service): lead-time demand
    # N(100, 25²), 98 % → z = 2.05, R = 100 + 25 · 2.05 = 151.
    point = inv.reorder_point_for_cycle_service(inv.LeadTimeDemand(100, 25), 0.98)
    assert round(point.reorder_point) == 151
    assert point.cycle_service_level == pytest.approx(0.98)


def test_fill_rate_reorder_point_leaves_the_allowed_shortage_per_cycle() -> None:
    ltd = inv.LeadTimeDemand(100, 25)
    point = inv.reorder_point_for_fill_rate(ltd, order_quantity=82, target_fill_rate=0.98)
    assert point.expected_units_short_per_cycle == pytest.approx(0.02 * 82)
    assert point.fill_rate == pytest.approx(0.98)
    assert inv.fill_rate(point.reorder_point, 82, ltd) == pytest.approx(0.98)
    assert inv.fill_rate(point.reorder_point + 5, 82, ltd) > 0.98


def _simulated_fill_rate(rate: float, lead: float, r: int, q: int, demands: int) -> float:
    """Continuous review (r, Q), unit Poisson demand, fixed lead time, backorders: share filled."""
    rng = random.Random(5)
    t, net, position = 0.0, r + q, r + q
    pipeline: deque[float] = deque()
    filled = counted = 0
    for i in range(demands):
        t += rng.expovariate(rate)
        while pipeline and pipeline[0] <= t:
            pipeline.popleft()
            net += q
        if i >= 2_000:
            counted += 1
            filled += net > 0
        net -= 1
        position -= 1
        if position <= r:
            position += q
            pipeline.append(t + lead)
    return filled / counted


def test_fill_rate_target_is_met_in_simulation() -> None:
    # 20 units a day one at a time, 5 days lead time: lead-time demand Poisson(100) ≈ N(100, 10²).
    ltd = inv.LeadTimeDemand(100, 10)
    point = inv.reorder_point_for_fill_rate(ltd, order_quantity=50, target_fill_rate=0.98)
    r = math.ceil(point.reorder_point)  # whole units, rounded up
    achieved = _simulated_fill_rate(rate=20, lead=5, r=r, q=50, demands=300_000)
    assert 0.98 - 0.003 <= achieved <= 0.98 + 0.01
    assert achieved == pytest.approx(inv.fill_rate(r, 50, ltd), abs=0.004)


def test_service_level_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match=r"0\.95, not 95"):
        inv.reorder_point_for_cycle_service(inv.LeadTimeDemand(100, 25), 95)


def test_zero_lead_time_is_refused_where_there_is_nothing_to_protect() -> None:
    with pytest.raises(ValueError, match="zero lead time"):
        inv.lead_time_demand(20, 4, 0)


def test_negative_demand_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative, got -3"):
        inv.lead_time_demand(-3, 4, 5)


def test_a_certain_lead_time_demand_needs_no_safety_stock_model() -> None:
    with pytest.raises(ValueError, match="no spread"):
        inv.reorder_point_for_fill_rate(inv.LeadTimeDemand(100, 0), 50, 0.98)


# ---------------------------------------------------------------------------------------------
# (Q, r) with a shortage cost per unit: the Hadley–Whitin iteration


def test_optimal_reorder_policy_matches_snyder_and_shen_eil_example() -> None:
    # Snyder & Shen, FoSCT 2nd ed., Example 5.2 (EIL approximation, Algorithm 5.1): h = 0.225,
    # p = 7.5, K = 8, λ = 1,300/yr, σ = 150/√yr, L = 1/12 yr → r = 213.97, Q = 318.59, g = 95.45.
    ltd = inv.LeadTimeDemand(1300 / 12, 150 * math.sqrt(1 / 12))
    model = inv.ContinuousReviewModel(1300, ltd, 8, 0.225, 7.5)
    policy = inv.optimal_reorder_policy(model)
    assert policy.reorder_point == pytest.approx(213.970, abs=0.01)
    assert policy.order_quantity == pytest.approx(318.590, abs=0.01)
    assert policy.evaluation.total_cost == pytest.approx(95.451, abs=0.01)


def test_optimal_reorder_policy_of_harveys_mustard() -> None:
    # Nahmias, POA 6th ed., section 5.4 (Harvey's Specialty Shop): jar $10, 30 %/yr (h = 3),
    # K = $50, goodwill p = $25 a jar, λ = 200/yr, lead-time demand N(100, 25²)
    # → the iteration ends at Q = 93, R = 140.
    model = inv.ContinuousReviewModel(200, inv.LeadTimeDemand(100, 25), 50, 3, 25)
    policy = inv.optimal_reorder_policy(model)
    assert round(policy.order_quantity) == 93
    assert round(policy.reorder_point) == 140
    # the fixed point: 1 − Φ(k) = Q·h/(p·λ) and Q = √(2λ(K + p·n(R))/h)
    assert 1 - norm.cdf(policy.safety_factor) == pytest.approx(policy.order_quantity * 3 / 5000)
    n_r = 25 * inv.standard_normal_loss(policy.safety_factor)
    assert policy.order_quantity == pytest.approx(math.sqrt(400 * (50 + 25 * n_r) / 3), rel=1e-5)


def test_optimal_reorder_policy_beats_its_neighbours() -> None:
    model = inv.ContinuousReviewModel(200, inv.LeadTimeDemand(100, 25), 50, 3, 25)
    policy = inv.optimal_reorder_policy(model)
    best = policy.evaluation.total_cost
    for dq, dr in ((5, 0), (-5, 0), (0, 5), (0, -5)):
        other = inv.reorder_policy_cost(
            model, policy.reorder_point + dr, policy.order_quantity + dq
        )
        assert other.total_cost > best


def test_reorder_policy_cost_matches_numeric_integration() -> None:
    # Hadley & Whitin backorder model, checked by integrating the normal density directly.
    ltd = inv.LeadTimeDemand(100, 25)
    model = inv.ContinuousReviewModel(200, ltd, 50, 3, 25)
    r, q = 100.0, 82.0
    density = norm(100, 25).pdf

    def backlog(y: float) -> float:
        return float(integrate.quad(lambda x: (x - y) * density(x), y, np.inf)[0])

    short_per_cycle = backlog(r) - backlog(r + q)
    average_backlog = integrate.quad(backlog, r, r + q)[0] / q
    cost = inv.reorder_policy_cost(model, r, q)
    assert cost.shortage_cost == pytest.approx(25 * short_per_cycle * 200 / q, rel=1e-6)
    assert cost.holding_cost == pytest.approx(3 * (q / 2 + r - 100 + average_backlog), rel=1e-6)
    assert cost.ordering_cost == pytest.approx(50 * 200 / q)


def test_holding_cost_stays_positive_for_a_reorder_point_far_below_demand() -> None:
    model = inv.ContinuousReviewModel(200, inv.LeadTimeDemand(100, 25), 50, 3, 25)
    cost = inv.reorder_policy_cost(model, reorder_point=20, order_quantity=40)
    assert cost.holding_cost > 0
    assert cost.shortage_per_year > 0


def test_too_low_a_shortage_cost_is_explained() -> None:
    model = inv.ContinuousReviewModel(200, inv.LeadTimeDemand(100, 25), 50, 3, 0.5)
    with pytest.raises(ValueError, match="too low against holding"):
        inv.optimal_reorder_policy(model)
