"""Periodic review (s,S) on discrete demand: exact cost of a policy and the optimal one."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import poisson

from factory_agents.catalog.supply_chain.inventory.checks import (
    require_non_negative,
    require_positive,
)
from factory_agents.catalog.supply_chain.inventory.continuous import PolicyEvaluation

_MAX_DISCRETE_SUPPORT = 200_000


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
            require_non_negative("probability", p)
        total = sum(self.pmf)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"probabilities sum to {total}, not 1; normalise them first")
        if self.pmf[0] >= 1 - 1e-12:
            raise ValueError("demand is always zero; an item without demand needs no policy")

    @classmethod
    def poisson(cls, mean: float, tail: float = 1e-12) -> DiscreteDemand:
        """Poisson demand per period, cut where the upper tail falls below `tail`, renormalised."""
        mu = require_positive(
            "mean demand per period", mean, "an item without demand needs no policy"
        )
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
        require_non_negative("ordering cost K", self.ordering_cost)
        require_positive(
            "holding cost h", self.holding_cost_per_unit_period, "give it per unit and period"
        )
        require_positive(
            "backorder cost p", self.backorder_cost_per_unit_period, "per unit and period"
        )
        require_positive("periods per year", self.periods_per_year, "e.g. 365 for daily review")


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
    s, big_s = check_min_max(reorder_level, order_up_to)
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
        evaluation=evaluate_min_max(model, best_s, best_big_s),
    )


def check_min_max(reorder_level: int, order_up_to: int) -> tuple[int, int]:
    """(s, S) as whole units, or ValueError unless 0 ≤ s < S."""
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


def evaluate_min_max(model: PeriodicReviewModel, s: int, big_s: int) -> PolicyEvaluation:
    """The exact long-run cost and service of (s, S) under the model's demand."""
    tables = _tables(model)
    ys, weights = tables.positions(s, big_s)
    on_hand = float(np.dot(weights, tables.on_hand(ys)))
    backlog = float(np.dot(weights, tables.backlog(ys)))
    orders_per_period = 1 / float(tables.renewal(big_s - s).sum())
    return _periodic_evaluation(model, tables, on_hand, backlog, orders_per_period, s)


def evaluate_reorder_point_periodic(
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
