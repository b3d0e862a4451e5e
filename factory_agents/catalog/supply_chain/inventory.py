"""Textbook inventory models: EOQ, newsvendor, (r,Q) with the normal loss function, exact (s,S).

Every model is a small pure function with its formula in the docstring. Amounts inside the math
are floats in the currency of the inputs; `compare_policies`, which is what reaches an engineer,
returns `Decimal` amounts with every input and assumption listed.

Notation: D demand per year (or per period), K cost per order, h holding cost per unit and year
(or period), p shortage cost, L lead time, μ and σ the mean and standard deviation of demand over
the lead time, k = (r − μ)/σ the safety factor, φ and Φ the standard normal density and
distribution, G(k) = φ(k) − k·(1 − Φ(k)) the standard normal loss function.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import NormalDist
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.stats import poisson

_NORMAL = NormalDist()
_CENTS = Decimal("0.01")
_LOSS_SEARCH_LIMIT = 10.0  # G(10) ≈ 7.7e-26: any useful target lies below this safety factor
_MAX_DISCRETE_SUPPORT = 200_000


# ---------------------------------------------------------------------------------------------
# checks


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return float(value)


def _positive(name: str, value: float, hint: str = "") -> float:
    value = _finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}" + (f"; {hint}" if hint else ""))
    return value


def _non_negative(name: str, value: float, hint: str = "") -> float:
    value = _finite(name, value)
    if value < 0:
        raise ValueError(
            f"{name} must not be negative, got {value}" + (f"; {hint}" if hint else "")
        )
    return value


def _probability(name: str, value: float) -> float:
    value = _finite(name, value)
    if not 0 < value < 1:
        raise ValueError(
            f"{name} must lie strictly between 0 and 1, got {value}; give it as a fraction"
            " (0.95, not 95), and below 1 because no finite stock reaches 100 %"
        )
    return value


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENTS, rounding=ROUND_HALF_EVEN)


# ---------------------------------------------------------------------------------------------
# the standard normal loss function


def standard_normal_loss(k: float) -> float:
    """G(k) = φ(k) − k·(1 − Φ(k)) = E[(Z − k)⁺]: expected units short per σ at safety factor k."""
    k = _finite("safety factor k", k)
    upper_tail = 0.5 * math.erfc(k / math.sqrt(2.0))
    return max(0.0, _NORMAL.pdf(k) - k * upper_tail)


def second_order_standard_normal_loss(k: float) -> float:
    """G₂(k) = ∫ₖ^∞ G(x) dx = ½·[(1 + k²)·(1 − Φ(k)) − k·φ(k)] (average backorders over a cycle)."""
    k = _finite("safety factor k", k)
    upper_tail = 0.5 * math.erfc(k / math.sqrt(2.0))
    return max(0.0, 0.5 * ((1 + k * k) * upper_tail - k * _NORMAL.pdf(k)))


def inverse_standard_normal_loss(loss: float) -> float:
    """The safety factor k with G(k) = loss; G falls from +∞ to 0, so k is unique for loss > 0."""
    loss = _positive(
        "the standard normal loss G(k)", loss, "a zero shortage needs an infinite safety stock"
    )
    if loss <= standard_normal_loss(_LOSS_SEARCH_LIMIT):
        raise ValueError(
            f"G(k) = {loss} asks for a safety factor above {_LOSS_SEARCH_LIMIT}; lower the service"
            " target or check the units of the order quantity and σ"
        )
    low = -loss - 1.0  # G(k) ≥ −k (Jensen), so G(low) ≥ loss + 1 > loss
    root = brentq(
        lambda k: standard_normal_loss(k) - loss, low, _LOSS_SEARCH_LIMIT, xtol=1e-12, rtol=1e-14
    )
    return float(root)


# ---------------------------------------------------------------------------------------------
# EOQ


@dataclass(frozen=True)
class EoqResult:
    """The economic order quantity with its annual ordering and holding cost (input currency)."""

    order_quantity: float
    orders_per_year: float
    annual_ordering_cost: float
    annual_holding_cost: float
    total_relevant_cost: float


def eoq_total_relevant_cost(
    order_quantity: float,
    annual_demand: float,
    ordering_cost: float,
    holding_cost_per_unit_year: float,
) -> float:
    """TRC(Q) = K·D/Q + h·Q/2: annual ordering plus cycle-stock holding cost of lot size Q."""
    q = _positive("order quantity Q", order_quantity)
    d = _non_negative("annual demand D", annual_demand, "returns belong in a separate stream")
    k = _non_negative("ordering cost K", ordering_cost)
    h = _non_negative("holding cost h", holding_cost_per_unit_year)
    return k * d / q + h * q / 2


def eoq(annual_demand: float, ordering_cost: float, holding_cost_per_unit_year: float) -> EoqResult:
    """Q* = √(2·K·D/h) (Harris 1913); at Q* ordering equals holding and TRC(Q*) = √(2·K·D·h)."""
    d = _positive("annual demand D", annual_demand, "an item without demand needs no order")
    k = _positive("ordering cost K", ordering_cost, "with no cost per order, order every unit")
    h = _positive("holding cost h", holding_cost_per_unit_year, "give it per unit and year")
    q = math.sqrt(2 * k * d / h)
    return EoqResult(
        order_quantity=q,
        orders_per_year=d / q,
        annual_ordering_cost=k * d / q,
        annual_holding_cost=h * q / 2,
        total_relevant_cost=eoq_total_relevant_cost(q, d, k, h),
    )


# ---------------------------------------------------------------------------------------------
# newsvendor


@dataclass(frozen=True)
class NewsvendorSolution:
    """The best single order against uncertain demand, with what it is expected to leave or miss."""

    quantity: float
    critical_ratio: float
    expected_units_short: float
    expected_units_left_over: float
    expected_cost: float


def critical_ratio(underage_cost: float, overage_cost: float) -> float:
    """Cu/(Cu + Co): the probability of meeting all demand that the best order quantity gives."""
    cu = _non_negative("underage cost Cu (margin lost per unit short)", underage_cost)
    co = _non_negative("overage cost Co (loss per unit left over)", overage_cost)
    if cu + co <= 0:
        raise ValueError("underage and overage costs are both zero: every quantity is as good")
    return cu / (cu + co)


def newsvendor_normal_cost(
    quantity: float,
    demand_mean: float,
    demand_std: float,
    underage_cost: float,
    overage_cost: float,
) -> float:
    """Co·E[(Q − D)⁺] + Cu·E[(D − Q)⁺], with E[(D − Q)⁺] = σ·G(z), E[(Q − D)⁺] = Q − μ + σ·G(z)."""
    mu = _non_negative("mean demand", demand_mean, "demand cannot be negative")
    sigma = _positive("demand standard deviation", demand_std, "without spread, order the mean")
    critical_ratio(underage_cost, overage_cost)
    short = sigma * standard_normal_loss((quantity - mu) / sigma)
    left_over = quantity - mu + short
    return overage_cost * left_over + underage_cost * short


def newsvendor_normal(
    demand_mean: float, demand_std: float, underage_cost: float, overage_cost: float
) -> NewsvendorSolution:
    """Q* = μ + z·σ with Φ(z) = Cu/(Cu + Co); its expected cost is (Cu + Co)·σ·φ(z)."""
    mu = _non_negative("mean demand", demand_mean, "demand cannot be negative")
    sigma = _positive("demand standard deviation", demand_std, "without spread, order the mean")
    ratio = critical_ratio(underage_cost, overage_cost)
    if not 0 < ratio < 1:
        raise ValueError(
            "the critical ratio is 0 or 1 (one of the two costs is zero), so the best quantity is"
            " zero or unbounded; give both the underage and the overage cost"
        )
    z = _NORMAL.inv_cdf(ratio)
    quantity = mu + z * sigma
    short = sigma * standard_normal_loss(z)
    return NewsvendorSolution(
        quantity=quantity,
        critical_ratio=ratio,
        expected_units_short=short,
        expected_units_left_over=quantity - mu + short,
        expected_cost=newsvendor_normal_cost(quantity, mu, sigma, underage_cost, overage_cost),
    )


def _discrete_distribution(
    outcomes: Sequence[float], probabilities: Sequence[float] | None
) -> tuple[list[float], list[float]]:
    """Sorted distinct outcomes and their probabilities; equal weights when none are given."""
    if not outcomes:
        raise ValueError("no demand outcomes given; pass the observed demands or the support")
    values = [_finite("demand outcome", v) for v in outcomes]
    if any(v < 0 for v in values):
        raise ValueError(f"demand outcomes must not be negative, got {min(values)}")
    if probabilities is None:
        weights = [1.0 / len(values)] * len(values)
    else:
        if len(probabilities) != len(values):
            raise ValueError(
                f"{len(values)} outcomes but {len(probabilities)} probabilities; give one each"
            )
        weights = [_non_negative("probability", p) for p in probabilities]
        total = sum(weights)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"probabilities sum to {total}, not 1; normalise them first")
    merged: dict[float, float] = {}
    for v, w in zip(values, weights, strict=True):
        merged[v] = merged.get(v, 0.0) + w
    support = sorted(merged)
    return support, [merged[v] for v in support]


def newsvendor_discrete_cost(
    quantity: float,
    outcomes: Sequence[float],
    probabilities: Sequence[float] | None = None,
    *,
    underage_cost: float,
    overage_cost: float,
) -> float:
    """Σ P(d)·[Co·(Q − d)⁺ + Cu·(d − Q)⁺] over a discrete or empirical demand distribution."""
    critical_ratio(underage_cost, overage_cost)
    support, weights = _discrete_distribution(outcomes, probabilities)
    return sum(
        w * (overage_cost * max(quantity - d, 0.0) + underage_cost * max(d - quantity, 0.0))
        for d, w in zip(support, weights, strict=True)
    )


def newsvendor_discrete(
    outcomes: Sequence[float],
    probabilities: Sequence[float] | None = None,
    *,
    underage_cost: float,
    overage_cost: float,
) -> NewsvendorSolution:
    """Q* = the smallest outcome with F(Q) ≥ Cu/(Cu + Co); equal weights (empirical) by default."""
    ratio = critical_ratio(underage_cost, overage_cost)
    support, weights = _discrete_distribution(outcomes, probabilities)
    cumulative = 0.0
    quantity = support[-1]
    for d, w in zip(support, weights, strict=True):
        cumulative += w
        if cumulative >= ratio - 1e-12:
            quantity = d
            break
    short = sum(w * max(d - quantity, 0.0) for d, w in zip(support, weights, strict=True))
    left = sum(w * max(quantity - d, 0.0) for d, w in zip(support, weights, strict=True))
    return NewsvendorSolution(
        quantity=quantity,
        critical_ratio=ratio,
        expected_units_short=short,
        expected_units_left_over=left,
        expected_cost=overage_cost * left + underage_cost * short,
    )


# ---------------------------------------------------------------------------------------------
# continuous review (r, Q) with normal lead-time demand


@dataclass(frozen=True)
class LeadTimeDemandBasis:
    """What a lead-time demand was computed from: demand per period and lead time in periods."""

    demand_mean: float
    demand_std: float
    lead_time_mean: float
    lead_time_std: float


@dataclass(frozen=True)
class LeadTimeDemand:
    """Demand over the replenishment lead time as a normal mean and standard deviation."""

    mean: float
    std: float
    basis: LeadTimeDemandBasis | None = None

    def __post_init__(self) -> None:
        _non_negative("mean lead-time demand", self.mean, "demand cannot be negative")
        _non_negative("standard deviation of lead-time demand", self.std)

    def safety_factor(self, reorder_point: float) -> float:
        """k = (r − μ)/σ."""
        return (reorder_point - self.mean) / self.checked_std()

    def checked_std(self) -> float:
        """σ, refused when it is zero because the normal safety-stock formulas divide by it."""
        if self.std <= 0:
            raise ValueError(
                "lead-time demand has no spread (σ = 0): demand and lead time are certain, so no"
                " safety stock is needed; set the reorder point to the mean lead-time demand"
            )
        return self.std


def lead_time_demand(
    demand_mean_per_period: float,
    demand_std_per_period: float,
    lead_time_mean_periods: float,
    lead_time_std_periods: float = 0.0,
) -> LeadTimeDemand:
    """μ = D·L and σ = √(L·σ_D² + D²·σ_L²), demand per period independent of the lead time."""
    d = _non_negative(
        "mean demand per period", demand_mean_per_period, "returns belong in a separate stream"
    )
    sd = _non_negative("standard deviation of demand per period", demand_std_per_period)
    lead = _positive(
        "mean lead time",
        lead_time_mean_periods,
        "with zero lead time there is no lead-time demand to protect and no reorder point to set",
    )
    sl = _non_negative("standard deviation of the lead time", lead_time_std_periods)
    return LeadTimeDemand(
        mean=d * lead,
        std=math.sqrt(lead * sd * sd + d * d * sl * sl),
        basis=LeadTimeDemandBasis(d, sd, lead, sl),
    )


def expected_units_short(reorder_point: float, ltd: LeadTimeDemand) -> float:
    """n(r) = σ·G((r − μ)/σ): the expected units short per replenishment cycle."""
    return ltd.std * standard_normal_loss(ltd.safety_factor(reorder_point))


def fill_rate(reorder_point: float, order_quantity: float, ltd: LeadTimeDemand) -> float:
    """β = 1 − n(r)/Q: the share of demand met from stock (Type 2 service, backorders, floor 0)."""
    q = _positive("order quantity Q", order_quantity)
    return max(0.0, 1 - expected_units_short(reorder_point, ltd) / q)


@dataclass(frozen=True)
class ReorderPoint:
    """A reorder point with its safety stock and the service it gives."""

    reorder_point: float
    safety_stock: float
    safety_factor: float
    cycle_service_level: float
    expected_units_short_per_cycle: float
    fill_rate: float | None


def _reorder_point(ltd: LeadTimeDemand, k: float, order_quantity: float | None) -> ReorderPoint:
    r = ltd.mean + k * ltd.std
    return ReorderPoint(
        reorder_point=r,
        safety_stock=r - ltd.mean,
        safety_factor=k,
        cycle_service_level=_NORMAL.cdf(k),
        expected_units_short_per_cycle=ltd.std * standard_normal_loss(k),
        fill_rate=None if order_quantity is None else fill_rate(r, order_quantity, ltd),
    )


def reorder_point_for_cycle_service(
    ltd: LeadTimeDemand, cycle_service_level: float, order_quantity: float | None = None
) -> ReorderPoint:
    """r = μ + k·σ with Φ(k) = α, the probability of no stockout in a cycle; safety stock k·σ."""
    alpha = _probability("cycle service level α", cycle_service_level)
    ltd.checked_std()
    return _reorder_point(ltd, _NORMAL.inv_cdf(alpha), order_quantity)


def reorder_point_for_fill_rate(
    ltd: LeadTimeDemand, order_quantity: float, target_fill_rate: float
) -> ReorderPoint:
    """r = μ + k·σ with σ·G(k) = (1 − β)·Q: units short per cycle equal the share of Q allowed."""
    beta = _probability("fill rate β", target_fill_rate)
    q = _positive("order quantity Q", order_quantity)
    k = inverse_standard_normal_loss((1 - beta) * q / ltd.checked_std())
    return _reorder_point(ltd, k, q)


@dataclass(frozen=True)
class PolicyEvaluation:
    """Expected annual cost of one policy by component, with the quantities behind it (floats)."""

    holding_cost: float
    ordering_cost: float
    shortage_cost: float
    orders_per_year: float
    average_on_hand: float
    shortage_per_year: float
    safety_stock: float

    @property
    def total_cost(self) -> float:
        """Holding plus ordering plus shortage cost per year."""
        return self.holding_cost + self.ordering_cost + self.shortage_cost


@dataclass(frozen=True)
class ContinuousReviewModel:
    """A continuously reviewed item: annual demand, normal lead-time demand and three unit costs.

    D is per year and h per unit and year; the lead-time demand may come from any period unit,
    as long as D equals the demand per period times the periods in a year.
    """

    annual_demand: float
    lead_time_demand: LeadTimeDemand
    ordering_cost: float
    holding_cost_per_unit_year: float
    shortage_cost_per_unit: float
    currency: str = "EUR"
    unit: str = "units"

    def __post_init__(self) -> None:
        _positive("annual demand D", self.annual_demand, "an item without demand needs no policy")
        _non_negative("ordering cost K", self.ordering_cost)
        _positive("holding cost h", self.holding_cost_per_unit_year, "give it per unit and year")
        _non_negative("shortage cost p per unit short", self.shortage_cost_per_unit)
        self.lead_time_demand.checked_std()


def reorder_policy_cost(
    model: ContinuousReviewModel, reorder_point: float, order_quantity: float
) -> PolicyEvaluation:
    """Annual cost of (r, Q): h·(Q/2 + r − μ + B̄) + K·D/Q + p·D·[n(r) − n(r + Q)]/Q.

    n(y) = σ·G((y − μ)/σ) is the expected backlog when the position is y; n(r) − n(r + Q) the units
    short per cycle and B̄ = σ²·[G₂(k_r) − G₂(k_r+Q)]/Q the average backlog (Hadley & Whitin 1963,
    backorders). Nahmias' textbook form drops the two small terms n(r + Q) and B̄.
    """
    q = _positive("order quantity Q", order_quantity)
    ltd = model.lead_time_demand
    k_low, k_high = ltd.safety_factor(reorder_point), ltd.safety_factor(reorder_point + q)
    sigma = ltd.std
    short_per_cycle = sigma * (standard_normal_loss(k_low) - standard_normal_loss(k_high))
    average_backlog = (
        sigma
        * sigma
        * (second_order_standard_normal_loss(k_low) - second_order_standard_normal_loss(k_high))
        / q
    )
    on_hand = q / 2 + reorder_point - ltd.mean + average_backlog
    cycles = model.annual_demand / q
    return PolicyEvaluation(
        holding_cost=model.holding_cost_per_unit_year * on_hand,
        ordering_cost=model.ordering_cost * cycles,
        shortage_cost=model.shortage_cost_per_unit * short_per_cycle * cycles,
        orders_per_year=cycles,
        average_on_hand=on_hand,
        shortage_per_year=short_per_cycle * cycles,
        safety_stock=reorder_point - ltd.mean,
    )


@dataclass(frozen=True)
class OptimalReorderPolicy:
    """The (Q, r) pair the Hadley–Whitin iteration settles on, with its expected annual cost."""

    reorder_point: float
    order_quantity: float
    safety_factor: float
    iterations: int
    evaluation: PolicyEvaluation


def optimal_reorder_policy(
    model: ContinuousReviewModel, *, tolerance: float = 1e-6, max_iterations: int = 100
) -> OptimalReorderPolicy:
    """Hadley–Whitin: Q₀ = EOQ; 1 − Φ(k) = Q·h/(p·D), r = μ + k·σ; Q = √(2D(K + p·n(r))/h); repeat.

    Stops when Q and r both move less than `tolerance` (relative). Minimises the textbook cost
    h·(Q/2 + r − μ) + K·D/Q + p·D·n(r)/Q with p per unit short (Nahmias, section 5.4).
    """
    d, h, p = model.annual_demand, model.holding_cost_per_unit_year, model.shortage_cost_per_unit
    ltd = model.lead_time_demand
    if model.ordering_cost <= 0:
        raise ValueError(
            "ordering cost K must be positive for the (Q, r) iteration to start at EOQ"
        )
    q = eoq(d, model.ordering_cost, h).order_quantity
    r = math.inf
    for iteration in range(1, max_iterations + 1):
        tail = q * h / (p * d) if p > 0 else math.inf
        if tail >= 1:
            raise ValueError(
                f"shortage cost p = {p} per unit is too low against holding: Q·h/(p·D) = {tail:.3g}"
                " ≥ 1, so no reorder point pays for itself; raise p or check that h is per year"
                " and D per year"
            )
        k = _NORMAL.inv_cdf(1 - tail)
        r_new = ltd.mean + k * ltd.std
        q_new = math.sqrt(2 * d * (model.ordering_cost + p * ltd.std * standard_normal_loss(k)) / h)
        settled = abs(q_new - q) <= tolerance * max(1.0, q) and abs(r_new - r) <= tolerance * max(
            1.0, abs(r_new)
        )
        q, r = q_new, r_new
        if settled:
            return OptimalReorderPolicy(
                reorder_point=r,
                order_quantity=q,
                safety_factor=ltd.safety_factor(r),
                iterations=iteration,
                evaluation=reorder_policy_cost(model, r, q),
            )
    raise ValueError(
        f"the (Q, r) iteration did not settle in {max_iterations} steps; check the inputs"
        " (demand and costs in the same time unit) or raise max_iterations"
    )


# ---------------------------------------------------------------------------------------------
# periodic review with discrete demand: exact (s, S) and (r, nQ)


@dataclass(frozen=True)
class DiscreteDemand:
    """Demand per period as probabilities of 0, 1, 2, … units: pmf[i] = P(D = i)."""

    pmf: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.pmf:
            raise ValueError("the demand distribution is empty; give P(D = 0), P(D = 1), …")
        if len(self.pmf) > _MAX_DISCRETE_SUPPORT:
            raise ValueError(
                f"demand support of {len(self.pmf)} units is too fine for the exact model; count"
                " demand in order units (packs, pallets) so it stays below"
                f" {_MAX_DISCRETE_SUPPORT}"
            )
        for p in self.pmf:
            _non_negative("probability", p)
        total = sum(self.pmf)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"probabilities sum to {total}, not 1; normalise them first")
        if self.pmf[0] >= 1 - 1e-12:
            raise ValueError("demand is always zero; an item without demand needs no policy")

    @classmethod
    def poisson(cls, mean: float, tail: float = 1e-12) -> DiscreteDemand:
        """Poisson demand per period, cut where the upper tail falls below `tail`, renormalised."""
        mu = _positive("mean demand per period", mean, "an item without demand needs no policy")
        top = int(poisson.isf(tail, mu)) + 1
        pmf = poisson.pmf(np.arange(top + 1), mu)
        return cls(tuple(float(x) for x in pmf / pmf.sum()))

    @classmethod
    def from_observations(cls, observations: Sequence[int]) -> DiscreteDemand:
        """The empirical distribution of observed whole-unit demands per period."""
        if not observations:
            raise ValueError("no observed demands; give at least one period's demand")
        for x in observations:
            if x < 0 or x != int(x):
                raise ValueError(
                    f"observed demand {x} is not a whole non-negative number of units; count in"
                    " order units (packs, pallets) and round before building the distribution"
                )
        counts = Counter(int(x) for x in observations)
        n = len(observations)
        return cls(tuple(counts.get(i, 0) / n for i in range(max(counts) + 1)))

    @property
    def mean(self) -> float:
        """E[D]."""
        return sum(i * p for i, p in enumerate(self.pmf))

    @property
    def std(self) -> float:
        """√Var[D]."""
        mean = self.mean
        return math.sqrt(sum((i - mean) ** 2 * p for i, p in enumerate(self.pmf)))


@dataclass(frozen=True)
class PeriodicReviewModel:
    """A periodically reviewed item with discrete demand, backorders and a lead time in periods."""

    demand: DiscreteDemand
    lead_time_periods: int
    ordering_cost: float
    holding_cost_per_unit_period: float
    backorder_cost_per_unit_period: float
    periods_per_year: float
    currency: str = "EUR"
    unit: str = "units"

    def __post_init__(self) -> None:
        if self.lead_time_periods < 0 or self.lead_time_periods != int(self.lead_time_periods):
            raise ValueError(
                f"lead time must be a whole number of periods ≥ 0, got {self.lead_time_periods}"
            )
        _non_negative("ordering cost K", self.ordering_cost)
        _positive(
            "holding cost h", self.holding_cost_per_unit_period, "give it per unit and period"
        )
        _positive("backorder cost p", self.backorder_cost_per_unit_period, "per unit and period")
        _positive("periods per year", self.periods_per_year, "e.g. 365 for daily review")


class _PeriodicTables:
    """Demand over L + 1 periods, its partial expectations, and the one-period renewal function."""

    def __init__(self, model: PeriodicReviewModel) -> None:
        per_period = np.asarray(model.demand.pmf, dtype=float)
        self.period_pmf = per_period / per_period.sum()
        protection = self.period_pmf
        for _ in range(model.lead_time_periods):
            protection = np.convolve(protection, self.period_pmf)
            keep = int(np.searchsorted(np.cumsum(protection), 1 - 1e-15)) + 1
            protection = protection[: max(keep, 1)]
        protection = protection / protection.sum()
        self.protection_mean = float(np.dot(np.arange(protection.size), protection))
        cdf = np.cumsum(protection)
        self.cdf = cdf
        self.top = protection.size - 1
        # partial[y] = Σ_{x < y} F(x) = E[(y − D)⁺] for 0 ≤ y ≤ top + 1
        self.partial = np.concatenate(([0.0], np.cumsum(cdf)))
        self.h = model.holding_cost_per_unit_period
        self.p = model.backorder_cost_per_unit_period
        self.k = model.ordering_cost
        self.no_demand = float(self.period_pmf[0])
        self._renewal: NDArray[np.float64] = np.array([1 / (1 - self.no_demand)])
        self.period_tail = 1 - np.concatenate(([0.0], np.cumsum(self.period_pmf)))  # P(D ≥ j)

    def on_hand(self, y: NDArray[np.int64]) -> NDArray[np.float64]:
        """E[(y − D)⁺], D the demand over L + 1 periods, for each position y."""
        inside = np.clip(y, 0, self.top + 1)
        beyond = np.maximum(y - (self.top + 1), 0)
        return np.asarray(self.partial[inside] + beyond, dtype=np.float64)

    def backlog(self, y: NDArray[np.int64]) -> NDArray[np.float64]:
        """E[(D − y)⁺] = E[D] − y + E[(y − D)⁺]."""
        return np.asarray(self.protection_mean - y + self.on_hand(y), dtype=np.float64)

    def cost(self, y: int) -> float:
        """G(y) = h·E[(y − D)⁺] + p·E[(D − y)⁺]: expected holding and backorder cost per period."""
        ys = np.array([y])
        return float(self.h * self.on_hand(ys)[0] + self.p * self.backlog(ys)[0])

    def renewal(self, n: int) -> NDArray[np.float64]:
        """m(0..n−1): m(0) = 1/(1 − p₀), m(j) = Σ_{l=1..j} p_l·m(j − l)/(1 − p₀) (ZF 1991, (2))."""
        m = self._renewal
        if m.size < n:
            grown = np.empty(n)
            grown[: m.size] = m
            p = self.period_pmf
            for j in range(m.size, n):
                span = min(j, p.size - 1)
                grown[j] = float(np.dot(p[1 : span + 1], grown[j - 1 :: -1][:span])) / (
                    1 - self.no_demand
                )
            self._renewal = m = grown
        return m[:n]

    def positions(self, s: int, big_s: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The positions S, S − 1, …, s + 1 after ordering and their weights m(j)/M(S − s)."""
        m = self.renewal(big_s - s)
        return np.arange(big_s, s, -1), m / m.sum()

    def min_max_cost(self, s: int, big_s: int) -> float:
        """c(s, S) = [K + Σ_{j=0}^{S−s−1} m(j)·G(S − j)]/M(S − s) (ZF 1991, eq. 3)."""
        m = self.renewal(big_s - s)
        ys = np.arange(big_s, s, -1)
        per_position = self.h * self.on_hand(ys) + self.p * self.backlog(ys)
        return (self.k + float(np.dot(m, per_position))) / float(m.sum())

    def base_stock(self) -> int:
        """y*, the smallest minimiser of G: the smallest y with P(D ≤ y) ≥ p/(p + h)."""
        target = self.p / (self.p + self.h)
        return int(np.searchsorted(self.cdf, target - 1e-12))


@functools.lru_cache(maxsize=16)
def _tables(model: PeriodicReviewModel) -> _PeriodicTables:
    return _PeriodicTables(model)


@dataclass(frozen=True)
class OptimalMinMaxPolicy:
    """The optimal (s, S) of a periodic-review model, its cost per period and per year."""

    reorder_level: int
    order_up_to: int
    cost_per_period: float
    base_stock_level: int
    evaluation: PolicyEvaluation


def min_max_policy_cost(model: PeriodicReviewModel, reorder_level: int, order_up_to: int) -> float:
    """Exact cost per period of (s, S): c(s, S) = [K + Σ_{j<S−s} m(j)·G(S − j)]/M(S − s)."""
    s, big_s = _check_min_max(reorder_level, order_up_to)
    return _tables(model).min_max_cost(s, big_s)


def optimal_min_max_policy(model: PeriodicReviewModel) -> OptimalMinMaxPolicy:
    """Zheng & Federgruen (1991): the optimal (s, S), found for about the work of one evaluation.

    y* minimises G. s falls from y* until c(s, y*) ≤ G(s); then S rises while G(S) ≤ c*, and
    whenever c(s, S) < c* the incumbent becomes S and s rises while c(s, S) ≤ G(s + 1).
    """
    tables = _tables(model)
    y_star = tables.base_stock()
    s = y_star - 1
    while tables.min_max_cost(s, y_star) > tables.cost(s):
        s -= 1
    best_s, best_big_s = s, y_star
    best = tables.min_max_cost(best_s, best_big_s)
    big_s = best_big_s + 1
    while tables.cost(big_s) <= best:
        if tables.min_max_cost(s, big_s) < best:
            best_big_s = big_s
            while tables.min_max_cost(s, best_big_s) <= tables.cost(s + 1):
                s += 1
            best_s = s
            best = tables.min_max_cost(best_s, best_big_s)
        big_s += 1
    return OptimalMinMaxPolicy(
        reorder_level=best_s,
        order_up_to=best_big_s,
        cost_per_period=best,
        base_stock_level=y_star,
        evaluation=_evaluate_min_max(model, best_s, best_big_s),
    )


def _check_min_max(reorder_level: int, order_up_to: int) -> tuple[int, int]:
    if reorder_level != int(reorder_level) or order_up_to != int(order_up_to):
        raise ValueError(
            f"(s, S) = ({reorder_level}, {order_up_to}) must be whole units in the discrete model;"
            " count in order units and round"
        )
    if order_up_to <= reorder_level:
        raise ValueError(
            f"order-up-to level S = {order_up_to} must exceed the reorder level s ="
            f" {reorder_level}; S − s is the smallest order"
        )
    return int(reorder_level), int(order_up_to)


def _evaluate_min_max(model: PeriodicReviewModel, s: int, big_s: int) -> PolicyEvaluation:
    tables = _tables(model)
    ys, weights = tables.positions(s, big_s)
    on_hand = float(np.dot(weights, tables.on_hand(ys)))
    backlog = float(np.dot(weights, tables.backlog(ys)))
    orders_per_period = 1 / float(tables.renewal(big_s - s).sum())
    return _periodic_evaluation(model, tables, on_hand, backlog, orders_per_period, s)


def _evaluate_reorder_point_periodic(
    model: PeriodicReviewModel, reorder_point: float, order_quantity: float
) -> PolicyEvaluation:
    """(r, nQ): position after ordering uniform on r + 1 … r + Q; P(order) = Σ_{j≤Q} P(D ≥ j)/Q."""
    if reorder_point != int(reorder_point) or order_quantity != int(order_quantity):
        raise ValueError(
            f"(r, Q) = ({reorder_point}, {order_quantity}) must be whole units in the discrete"
            " periodic model; count in order units and round"
        )
    r, q = int(reorder_point), int(order_quantity)
    if q <= 0:
        raise ValueError(f"order quantity Q must be positive, got {q}")
    tables = _tables(model)
    ys = np.arange(r + 1, r + q + 1)
    on_hand = float(tables.on_hand(ys).mean())
    backlog = float(tables.backlog(ys).mean())
    tail = tables.period_tail
    orders_per_period = float(tail[1 : min(q, tail.size - 1) + 1].sum()) / q
    return _periodic_evaluation(model, tables, on_hand, backlog, orders_per_period, r)


def _periodic_evaluation(
    model: PeriodicReviewModel,
    tables: _PeriodicTables,
    on_hand: float,
    backlog: float,
    orders_per_period: float,
    reorder_level: int,
) -> PolicyEvaluation:
    n = model.periods_per_year
    return PolicyEvaluation(
        holding_cost=model.holding_cost_per_unit_period * on_hand * n,
        ordering_cost=model.ordering_cost * orders_per_period * n,
        shortage_cost=model.backorder_cost_per_unit_period * backlog * n,
        orders_per_year=orders_per_period * n,
        average_on_hand=on_hand,
        shortage_per_year=backlog * n,
        safety_stock=reorder_level - tables.protection_mean,
    )


# ---------------------------------------------------------------------------------------------
# policies and their comparison


@dataclass(frozen=True)
class ReorderPointPolicy:
    """(r, Q): order Q when the inventory position falls to r ((r, nQ) under periodic review)."""

    reorder_point: float
    order_quantity: float

    def describe(self) -> str:
        """A short human label."""
        return f"(r, Q) = ({self.reorder_point:g}, {self.order_quantity:g})"


@dataclass(frozen=True)
class MinMaxPolicy:
    """(s, S): when the inventory position is at or below s, order up to S."""

    reorder_level: int
    order_up_to: int

    def describe(self) -> str:
        """A short human label."""
        return f"(s, S) = ({self.reorder_level}, {self.order_up_to})"


InventoryPolicy: TypeAlias = ReorderPointPolicy | MinMaxPolicy
InventoryModel: TypeAlias = ContinuousReviewModel | PeriodicReviewModel


def evaluate_policy(policy: InventoryPolicy, model: InventoryModel) -> PolicyEvaluation:
    """Expected annual holding, ordering and shortage cost of a policy under a model."""
    if isinstance(model, ContinuousReviewModel):
        if isinstance(policy, MinMaxPolicy):
            s, big_s = _check_min_max(policy.reorder_level, policy.order_up_to)
            return reorder_policy_cost(model, s, big_s - s)
        return reorder_policy_cost(model, policy.reorder_point, policy.order_quantity)
    if isinstance(policy, MinMaxPolicy):
        s, big_s = _check_min_max(policy.reorder_level, policy.order_up_to)
        return _evaluate_min_max(model, s, big_s)
    return _evaluate_reorder_point_periodic(model, policy.reorder_point, policy.order_quantity)


@dataclass(frozen=True)
class PolicyCost:
    """Expected annual cost of one policy, by component, in money an engineer can check."""

    policy: str
    holding: Decimal
    shortage: Decimal
    ordering: Decimal
    total: Decimal
    orders_per_year: float
    average_on_hand: float
    safety_stock: float
    shortage_per_year: float


@dataclass(frozen=True)
class PolicyComparison:
    """Current against proposed policy: each cost, the saving per component, inputs, assumptions."""

    current: PolicyCost
    proposed: PolicyCost
    holding_saving: Decimal
    shortage_saving: Decimal
    ordering_saving: Decimal
    saving: Decimal
    currency: str
    inputs: dict[str, str]
    assumptions: tuple[str, ...]


def _policy_cost(policy: InventoryPolicy, model: InventoryModel) -> PolicyCost:
    evaluation = evaluate_policy(policy, model)
    holding = _money(evaluation.holding_cost)
    shortage = _money(evaluation.shortage_cost)
    ordering = _money(evaluation.ordering_cost)
    return PolicyCost(
        policy=policy.describe(),
        holding=holding,
        shortage=shortage,
        ordering=ordering,
        total=holding + shortage + ordering,
        orders_per_year=evaluation.orders_per_year,
        average_on_hand=evaluation.average_on_hand,
        safety_stock=evaluation.safety_stock,
        shortage_per_year=evaluation.shortage_per_year,
    )


def _continuous_inputs(model: ContinuousReviewModel) -> tuple[dict[str, str], tuple[str, ...]]:
    u, c = model.unit, model.currency
    inputs = {
        "annual demand D": f"{model.annual_demand:g} {u}/year",
        "mean lead-time demand μ": f"{model.lead_time_demand.mean:g} {u}",
        "std of lead-time demand σ": f"{model.lead_time_demand.std:g} {u}",
        "ordering cost K": f"{model.ordering_cost:g} {c}/order",
        "holding cost h": f"{model.holding_cost_per_unit_year:g} {c}/({u}·year)",
        "shortage cost p": f"{model.shortage_cost_per_unit:g} {c}/{u} short",
    }
    basis = model.lead_time_demand.basis
    if basis is not None:
        inputs |= {
            "mean demand per period D": f"{basis.demand_mean:g} {u}",
            "std of demand per period σ_D": f"{basis.demand_std:g} {u}",
            "mean lead time L": f"{basis.lead_time_mean:g} periods",
            "std of lead time σ_L": f"{basis.lead_time_std:g} periods",
        }
    assumptions = (
        "continuous review: an order is placed the moment the inventory position reaches r",
        "demand over the lead time is normal with the mean and σ above"
        " (σ² = L·σ_D² + D²·σ_L² when the lead time varies)",
        "unmet demand is backordered; each unit short costs p once",
        "holding = h·(Q/2 + r − μ + average backlog); shortage = p·D·[n(r) − n(r + Q)]/Q;"
        " ordering = K·D/Q (Hadley & Whitin 1963)",
        "an (s, S) policy is read as r = s, Q = S − s (demand arrives one unit at a time)",
        "costs are expected values per year in steady state, not a forecast of one year",
    )
    return inputs, assumptions


def _periodic_inputs(model: PeriodicReviewModel) -> tuple[dict[str, str], tuple[str, ...]]:
    u, c = model.unit, model.currency
    inputs = {
        "mean demand per period": f"{model.demand.mean:g} {u}",
        "std of demand per period": f"{model.demand.std:g} {u}",
        "demand distribution": f"P(D = 0..{len(model.demand.pmf) - 1}) given, discrete",
        "lead time L": f"{model.lead_time_periods} periods",
        "ordering cost K": f"{model.ordering_cost:g} {c}/order",
        "holding cost h": f"{model.holding_cost_per_unit_period:g} {c}/({u}·period)",
        "backorder cost p": f"{model.backorder_cost_per_unit_period:g} {c}/({u}·period)",
        "periods per year": f"{model.periods_per_year:g}",
    }
    assumptions = (
        "periodic review: the inventory position is checked once per period, before demand",
        "demand per period is independent and identically distributed as given",
        "an order arrives L periods after it is placed; unmet demand is backordered",
        "holding h and backorder p are charged on the net inventory at the end of each period,"
        " G(y) = h·E[(y − D_{L+1})⁺] + p·E[(D_{L+1} − y)⁺]",
        "(s, S) is evaluated exactly with the renewal function (Zheng & Federgruen 1991);"
        " (r, Q) as (r, nQ) with the position uniform on r + 1 … r + Q",
        "costs are expected values per year in steady state, not a forecast of one year",
    )
    return inputs, assumptions


def compare_policies(
    current: InventoryPolicy, proposed: InventoryPolicy, model: InventoryModel
) -> PolicyComparison:
    """Expected annual holding, shortage and ordering cost of both policies and the saving."""
    now_cost = _policy_cost(current, model)
    new_cost = _policy_cost(proposed, model)
    if isinstance(model, ContinuousReviewModel):
        inputs, assumptions = _continuous_inputs(model)
    else:
        inputs, assumptions = _periodic_inputs(model)
    return PolicyComparison(
        current=now_cost,
        proposed=new_cost,
        holding_saving=now_cost.holding - new_cost.holding,
        shortage_saving=now_cost.shortage - new_cost.shortage,
        ordering_saving=now_cost.ordering - new_cost.ordering,
        saving=now_cost.total - new_cost.total,
        currency=model.currency,
        inputs=inputs,
        assumptions=(*assumptions, "saving = current total − proposed total; positive is cheaper"),
    )


__all__ = [
    "ContinuousReviewModel",
    "DiscreteDemand",
    "EoqResult",
    "InventoryModel",
    "InventoryPolicy",
    "LeadTimeDemand",
    "LeadTimeDemandBasis",
    "MinMaxPolicy",
    "NewsvendorSolution",
    "OptimalMinMaxPolicy",
    "OptimalReorderPolicy",
    "PeriodicReviewModel",
    "PolicyComparison",
    "PolicyCost",
    "PolicyEvaluation",
    "ReorderPoint",
    "ReorderPointPolicy",
    "compare_policies",
    "critical_ratio",
    "eoq",
    "eoq_total_relevant_cost",
    "evaluate_policy",
    "expected_units_short",
    "fill_rate",
    "inverse_standard_normal_loss",
    "lead_time_demand",
    "min_max_policy_cost",
    "newsvendor_discrete",
    "newsvendor_discrete_cost",
    "newsvendor_normal",
    "newsvendor_normal_cost",
    "optimal_min_max_policy",
    "optimal_reorder_policy",
    "reorder_point_for_cycle_service",
    "reorder_point_for_fill_rate",
    "reorder_policy_cost",
    "second_order_standard_normal_loss",
    "standard_normal_loss",
]
