"""Realized saving of a maintenance order: what the MES shows happened, against the failure the
order was to avoid.

Measured over the verification window (from the MES and the sensor): whether the job was done
(a planned stop of the equipment with a work reason code), whether the failure came first (a
stop with the failure's reason code before the job), and the health indicator before and after
the job. Modelled: the counterfactual, that without the order the part would have failed at
the time predicted when proposing, inside the window, costing the proposal's unplanned downtime
and collateral damage. So:

- the failure came first: nothing avoided (without the order, the same failure), less the job
  if it was still done;
- the job came first and the indicator before it was still on its trend: the failure cost
  less the job's cost (one failure avoided);
- the job came first but the indicator had fallen back: no failure counted, the job's cost spent;
- neither job nor failure by the window's end: nothing avoided, nothing spent.

The window must reach past the predicted failure; a shorter one is not measured (the error
says how long it must be).
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from decimal import Decimal

from factory_agents.actions import MaintenanceWorkOrder
from factory_agents.agent import Proposal, RealizedSaving, VerificationWindow
from factory_agents.catalog.maintenance.condition_config import ConditionConfig
from factory_agents.catalog.maintenance.condition_data import feature_windows, stop_hours
from factory_agents.errors import DataQualityError, MeasurementNotReady
from factory_agents.isa95 import DowntimeEvent

CENTS = Decimal("0.01")
HOUR = 3600.0
CONFIRM_WINDOWS = 5
"""Windows just before the job whose health indicator confirms the degradation went on."""
CONFIRM_TOLERANCE = 0.9
"""They confirm it when at or above this share of the trend's value at proposal time."""


def realized_saving(
    c: ConditionConfig, proposal: Proposal, window: VerificationWindow
) -> RealizedSaving:
    """Failure cost avoided if the job came first and the window passed the predicted failure.

    The window must reach past the failure predicted at proposal time: else the error says
    so and the saving stays unmeasured.
    """
    action = proposal.action
    if not isinstance(action, MaintenanceWorkOrder):
        raise DataQualityError(
            f"condition monitoring measures maintenance orders, not {action.kind}"
        )
    inputs = proposal.estimated_saving.inputs
    predicted = proposal.created_at + timedelta(seconds=inputs["predicted_failure_in_seconds"])
    start, end = window.before.at, window.after.at
    if end < predicted:
        needed = (predicted - start).total_seconds()
        raise MeasurementNotReady(
            f"the verification window ends at {end:%H:%M:%S} UTC, before the failure"
            f" predicted for {predicted:%H:%M:%S} UTC: whether the order avoided it cannot be"
            f" measured yet. Verify at least {needed:.0f} s after acting"
            " (FACTORY_VERIFICATION_SECONDS)"
        )
    events = [
        e
        for e in window.data.mes.downtime
        if e.equipment_id == action.equipment_id and stop_hours(e, start, end) > 0
    ]
    jobs = sorted(
        (e for e in events if e.planned and e.reason_code in c.work_reason_codes),
        key=lambda e: e.started_at,
    )
    job = jobs[0] if jobs else None
    failures = [
        e
        for e in events
        if e.reason_code == c.failure_reason_code and (job is None or e.started_at < job.started_at)
    ]
    failure_hours = sum(stop_hours(e, start, end) for e in failures)
    failure_cost = Decimal(repr(inputs["unplanned_downtime_hours"])) * Decimal(
        repr(inputs["downtime_cost_per_hour"])
    ) + Decimal(repr(inputs["collateral_damage_cost"]))
    planned_cost = Decimal(repr(inputs["planned_work_cost"]))
    avoided, amount, what = _outcome(
        c, window, job, failures, inputs, failure_cost - (planned_cost if job else 0), predicted
    )
    return RealizedSaving(
        amount=amount.quantize(CENTS),
        currency=proposal.estimated_saving.currency,
        period_hours=(end - start).total_seconds() / HOUR,
        metric_after=round(failure_hours, 6),
        units=avoided,
        method=f"{what}. Measured in the MES over the window: {len(failures)} failure(s) of the"
        f" {c.equipment_name} ({failure_hours:.3f} h unplanned), "
        + (f"the job done at {job.started_at:%H:%M:%S} UTC" if job else "no job done")
        + f". Modelled: a failure costs {inputs['unplanned_downtime_hours']:g} h x"
        f" {inputs['downtime_cost_per_hour']:g} + {inputs['collateral_damage_cost']:g}"
        f" {proposal.estimated_saving.currency}, the job {inputs['planned_work_cost']:g}"
        f" (the proposal's figures)",
    )


def _outcome(
    c: ConditionConfig,
    window: VerificationWindow,
    job: DowntimeEvent | None,
    failures: list[DowntimeEvent],
    inputs: dict[str, float],
    net_if_avoided: Decimal,
    predicted: datetime,
) -> tuple[int, Decimal, str]:
    """(failures avoided, amount, what happened): the measured case against its counterfactual."""
    spent = Decimal(repr(inputs["planned_work_cost"])) if job is not None else Decimal(0)
    if failures:
        return (
            0,
            -spent,
            (
                f"the {c.equipment_name} failed at {failures[0].started_at:%H:%M:%S} UTC before"
                " the job: nothing avoided (without the order the same failure)"
            ),
        )
    if job is None:
        return (
            0,
            Decimal(0),
            (
                f"the {c.equipment_name} neither failed nor had the job done by the window's"
                f" end, although its failure was predicted for {predicted:%H:%M:%S} UTC:"
                " nothing avoided, nothing spent"
            ),
        )
    found = feature_windows(window.data.history, c.features, window.after.at).accepted
    before = [w.values[c.health_indicator] for w in found if w.at < job.started_at]
    after = [
        w.values[c.health_indicator]
        for w in found
        if job.ended_at is not None and w.at > job.ended_at
    ]
    after_text = f", {statistics.fmean(after):.2f} after it" if after else ""
    expected = inputs["health_indicator_trend_now"]
    if before:
        level = statistics.fmean(before[-CONFIRM_WINDOWS:])
        seen = f"{c.health_name} {level:.2f} {c.health_unit} before the job{after_text}"
        if level < CONFIRM_TOLERANCE * expected:
            return (
                0,
                -spent,
                (
                    f"the job was done, but the degradation did not go on ({seen}, the trend"
                    f" stood at {expected:.2f} when proposed): no failure counted as avoided"
                ),
            )
    else:
        seen = f"no window between acting and the job{after_text}"
    return (
        1,
        net_if_avoided,
        (
            f"the job came first ({seen}); counterfactual: without the order the"
            f" {c.equipment_name} would have failed at {predicted:%H:%M:%S} UTC, in the window"
        ),
    )
