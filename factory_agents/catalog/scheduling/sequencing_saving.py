"""The sequencing agent's money: the objective in minutes and euros, estimated and realized.

Estimated: (baseline value - proposed value) on the solver's grid, in minutes, times the cost
of a weighted minute late (weighted tardiness) or of a shop hour (makespan). Realized: the
orders' completions as the MES recorded them (the end of the production count of each order's
last operation) give the actual value, against the baseline's modelled value.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from factory_agents.actions import DispatchList
from factory_agents.agent import Proposal, RealizedSaving, VerificationWindow
from factory_agents.catalog.scheduling.jobshop import Objective
from factory_agents.catalog.scheduling.sequencing_config import SequencingConfig
from factory_agents.errors import DataQualityError, MeasurementNotReady

CENTS = Decimal("0.01")
METRICS: dict[Objective, str] = {
    "weighted_tardiness": "weighted_tardiness_minutes",
    "makespan": "makespan_minutes",
}


def money(minutes: float, objective: Objective, c: SequencingConfig) -> Decimal:
    """What `minutes` of the objective cost (weighted minutes late, or shop minutes)."""
    if objective == "weighted_tardiness":
        return (Decimal(str(round(minutes, 6))) * c.cost_per_weighted_minute).quantize(CENTS)
    return (Decimal(str(round(minutes / 60, 9))) * c.cost_per_shop_hour).quantize(CENTS)


def due_key(order: str) -> str:
    """The estimate's input holding an order's due time, minutes after the plan's start."""
    return f"due_minutes[{order}]"


def weight_key(order: str) -> str:
    """The estimate's input holding an order's tardiness weight."""
    return f"weight[{order}]"


def measure_sequence(
    proposal: Proposal, window: VerificationWindow, c: SequencingConfig
) -> RealizedSaving:
    """The objective as the orders actually completed, against the baseline's modelled value."""
    action = proposal.action
    if not isinstance(action, DispatchList):
        raise DataQualityError(f"the sequencing agent measures dispatch lists, not {action.kind}")
    objective: Objective = (
        "makespan" if proposal.baseline.metric == METRICS["makespan"] else "weighted_tardiness"
    )
    last = {}
    for entry in sorted(action.entries, key=lambda e: e.operation):
        last[entry.work_order_id] = entry.equipment_id
    done = _completions(window, last)
    origin = proposal.baseline.start
    inputs = proposal.estimated_saving.inputs
    if objective == "weighted_tardiness":
        actual = sum(
            inputs[weight_key(order)] * max(0.0, _minutes(origin, end) - inputs[due_key(order)])
            for order, end in done.items()
        )
        what = "weighted minutes late (weight x minutes past due, summed over the orders)"
    else:
        actual = max(_minutes(origin, end) for end in done.values())
        what = "minutes from the plan's start until the last order completed"
    modelled = proposal.baseline.value
    return RealizedSaving(
        amount=money(modelled - actual, objective, c),
        currency=c.currency,
        period_hours=(window.after.at - window.before.at).total_seconds() / 3600,
        metric_after=round(actual, 3),
        units=len(done),
        method=(
            f"measured: {what} = {actual:.2f}, from each order's completion in the MES (the end"
            f" of the production count of its last operation); modelled: the baseline's"
            f" {modelled:.2f} ({proposal.baseline.method}); saving = (modelled - measured) x"
            + (
                f" {c.cost_per_weighted_minute} {c.currency} per weighted minute"
                if objective == "weighted_tardiness"
                else f" {c.cost_per_shop_hour} {c.currency} per shop hour / 60"
            )
            + "; the baseline sequence was not run, so its value is the model's, not observed"
        ),
    )


def _completions(window: VerificationWindow, last: dict[str, str]) -> dict[str, datetime]:
    """When each order's last operation ended, from the MES's production counts."""
    done: dict[str, datetime] = {}
    for count in window.data.mes.production_counts:
        if count.work_order_id in last and count.equipment_id == last[count.work_order_id]:
            order = count.work_order_id
            done[order] = max(done.get(order, count.end), count.end)
    missing = sorted(set(last) - set(done))
    if missing:
        raise MeasurementNotReady(
            f"order(s) {', '.join(missing)} have not completed their last operation in the MES"
            " yet; the realized saving is measured once every order of the list has completed"
        )
    return done


def _minutes(origin: datetime, moment: datetime) -> float:
    """Minutes from `origin` to `moment`."""
    return (moment - origin).total_seconds() / 60
