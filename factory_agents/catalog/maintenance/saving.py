"""Estimated saving of a work order in the next planned stop: unplanned failure cost avoided.

Without the work order the part stays in until the horizon H (when it would be replaced
anyway, or the end of the period considered) and fails before then with probability P_H.
With it, the part is replaced at the next planned stop s and fails first with probability
P_s: only failures between s and H are avoided, and the planned job is spent only when no
failure came first. So

    saving = (P_H - P_s) x (unplanned downtime h x cost per h + collateral damage)
             - (1 - P_s) x added cost of the planned job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from factory_agents.catalog.maintenance.rul import RulEstimate

CENTS = Decimal("0.01")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class FailureCosts:
    """What an unplanned failure costs, and what the planned job adds."""

    unplanned_downtime_hours: float
    downtime_cost_per_hour: Decimal
    collateral_damage_cost: Decimal
    planned_work_cost: Decimal
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not self.unplanned_downtime_hours >= 0:
            raise ValueError(
                f"unplanned_downtime_hours must be >= 0, got {self.unplanned_downtime_hours}"
            )
        for name in ("downtime_cost_per_hour", "collateral_damage_cost", "planned_work_cost"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite Decimal >= 0, got {value!r}")
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code like 'EUR', got {self.currency!r}")

    @property
    def failure_cost(self) -> Decimal:
        """Unplanned downtime hours x cost per hour + collateral damage."""
        hours = Decimal(repr(self.unplanned_downtime_hours))
        return hours * self.downtime_cost_per_hour + self.collateral_damage_cost


@dataclass(frozen=True, slots=True)
class MaintenanceSaving:
    """The estimated saving with its formula, inputs and assumptions (money as Decimal)."""

    amount: Decimal
    currency: str
    horizon_hours: float
    probability_failure_before_stop: float
    probability_failure_within_horizon: float
    expected_failure_cost_avoided: Decimal
    expected_planned_cost: Decimal
    formula: str
    inputs: dict[str, float]
    assumptions: tuple[str, ...]

    @property
    def worth_doing(self) -> bool:
        """True when the expected saving is positive."""
        return self.amount > 0


def planned_work_saving(
    probability_failure_before_stop: float,
    probability_failure_within_horizon: float,
    costs: FailureCosts,
    *,
    stop_in_hours: float,
    horizon_hours: float,
) -> MaintenanceSaving:
    """(P_H - P_s) x failure cost - (1 - P_s) x planned job cost, rounded to cents."""
    p_stop, p_horizon = probability_failure_before_stop, probability_failure_within_horizon
    if not 0 <= stop_in_hours <= horizon_hours:
        raise ValueError(
            f"need 0 <= stop_in_hours <= horizon_hours, got {stop_in_hours} and {horizon_hours}:"
            " the horizon is when the part would be replaced without this work order"
        )
    if not 0 <= p_stop <= p_horizon <= 1:
        raise ValueError(
            f"need 0 <= P(failure before stop) <= P(failure within horizon) <= 1, got {p_stop}"
            f" and {p_horizon}"
        )
    avoided = Decimal(repr(p_horizon - p_stop)) * costs.failure_cost
    planned = Decimal(repr(1 - p_stop)) * costs.planned_work_cost
    return MaintenanceSaving(
        amount=(avoided - planned).quantize(CENTS),
        currency=costs.currency,
        horizon_hours=horizon_hours,
        probability_failure_before_stop=p_stop,
        probability_failure_within_horizon=p_horizon,
        expected_failure_cost_avoided=avoided.quantize(CENTS),
        expected_planned_cost=planned.quantize(CENTS),
        formula="(P(failure within horizon) - P(failure before planned stop)) x (unplanned"
        " downtime hours x downtime cost per hour + collateral damage cost) - (1 - P(failure"
        " before planned stop)) x planned work cost",
        inputs={
            "probability_failure_before_stop": round(p_stop, 6),
            "probability_failure_within_horizon": round(p_horizon, 6),
            "stop_in_hours": stop_in_hours,
            "horizon_hours": horizon_hours,
            "unplanned_downtime_hours": costs.unplanned_downtime_hours,
            "downtime_cost_per_hour": float(costs.downtime_cost_per_hour),
            "collateral_damage_cost": float(costs.collateral_damage_cost),
            "planned_work_cost": float(costs.planned_work_cost),
        },
        assumptions=(
            f"without the work order the part stays in for {horizon_hours:g} h (the horizon),"
            " then is replaced anyway",
            f"the work is done in the planned stop in {stop_in_hours:g} h; a failure before then"
            " is not avoided (residual risk) and makes the planned job unnecessary",
            "a failure costs the unplanned downtime at the stated cost per hour plus the"
            " collateral damage (repair of damaged parts); the planned job costs only what it"
            " adds (labour, parts, any extension of the stop)",
            "money is not discounted over the horizon",
        ),
    )


def saving_from_rul(
    rul: RulEstimate, costs: FailureCosts, *, stop_in_hours: float, horizon_hours: float
) -> MaintenanceSaving:
    """The saving with both failure probabilities read from the remaining-life estimate."""
    p_stop = rul.probability_failed_by(stop_in_hours)
    # P(trend above threshold) need not rise with time once the trend is past the threshold
    # on average; failing by the stop implies failing by the horizon, so take the larger.
    p_horizon = max(p_stop, rul.probability_failed_by(horizon_hours))
    saving = planned_work_saving(
        p_stop, p_horizon, costs, stop_in_hours=stop_in_hours, horizon_hours=horizon_hours
    )
    fit = rul.fit
    return MaintenanceSaving(
        amount=saving.amount,
        currency=saving.currency,
        horizon_hours=saving.horizon_hours,
        probability_failure_before_stop=p_stop,
        probability_failure_within_horizon=p_horizon,
        expected_failure_cost_avoided=saving.expected_failure_cost_avoided,
        expected_planned_cost=saving.expected_planned_cost,
        formula=saving.formula,
        inputs={
            **saving.inputs,
            "failure_threshold": rul.threshold,
            "remaining_life_hours": round(rul.rul, 3),
            "trend_slope": fit.slope,
            "trend_points": fit.points,
        },
        assumptions=(
            *saving.assumptions,
            f"failure is the {fit.model} trend of the health indicator (fitted by least squares"
            f" to {fit.points} windows since the anomaly began) reaching {rul.threshold:g};"
            " P(failure by t) is the probability that the trend is at or above it at t, from"
            f" the regression's standard errors (Student t, {fit.dof} degrees of freedom)",
            "the trend's form holds until the horizon (extrapolation adds no further"
            " uncertainty than the regression's)",
        ),
    )
