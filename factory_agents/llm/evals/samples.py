"""Sample proposals of different evidence kinds (a control chart, a stop Pareto, a lot table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from factory_agents import site
from factory_agents.actions import Advice, LotHold, SetpointChange
from factory_agents.agent import Baseline, EstimatedSaving, Proposal
from factory_agents.evidence import Bar, BarChart, ControlChart, Table

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def sample_proposals() -> list[Proposal]:
    """Three proposals of different evidence kinds, for the faithfulness suite."""
    times = [T0 - timedelta(minutes=5 - i) for i in range(5)]
    drift = Proposal(
        proposal_id="eval-drift",
        agent="spc_drift",
        line=site.LINE,
        title="Lower the fill-weight setpoint by 1.2 g",
        rationale="The EWMA of the fill weight rose above its upper limit.",
        action=SetpointChange(
            action_id="eval-drift-act",
            node_id=site.FILL_SETPOINT,
            from_value=500.0,
            to_value=498.8,
            unit="g",
        ),
        evidence=ControlChart(
            characteristic="fill weight",
            unit="g",
            times=times,
            values=[500.3, 500.9, 501.1, 501.4, 501.2],
            ewma=[500.1, 500.3, 500.5, 500.7, 500.8],
            center=500.0,
            sigma=0.8,
            ewma_lcl=499.4,
            ewma_ucl=500.6,
            lsl=497.0,
            usl=503.0,
            signals={3: ["EWMA above UCL"], 4: ["EWMA above UCL"]},
        ),
        estimated_saving=EstimatedSaving(
            amount=Decimal("18.90"),
            horizon_hours=1.0,
            formula="scrap avoided × units per hour × unit cost",
            inputs={"scrap_avoided": 0.025, "units_per_hour": 3600.0, "unit_cost": 0.21},
            assumptions=["the line keeps running at 3600 units per hour"],
        ),
        baseline=Baseline(
            metric="out-of-spec ratio",
            value=0.031,
            units=540,
            start=T0 - timedelta(minutes=9),
            end=T0,
            method="units weighed since the shift",
        ),
        unit_cost=Decimal("0.21"),
        counters=(site.LINE_GOOD, site.LINE_SCRAP),
        created_at=T0,
    )
    stops = drift.model_copy(
        update={
            "proposal_id": "eval-stops",
            "agent": "oee_losses",
            "title": "Label jams cost the most availability",
            "rationale": "Unplanned stops at the labeler dominate the loss tree.",
            "action": Advice(
                action_id="eval-stops-act",
                topic="labeler jams",
                summary="Check the labeler infeed guide",
            ),
            "evidence": BarChart(
                title="Unplanned stops by reason",
                unit="min",
                bars=[
                    Bar(category="Label jam", value=42.0),
                    Bar(category="Cap feeder empty", value=17.5),
                    Bar(category="Filler valve fault", value=6.0),
                ],
            ),
            "estimated_saving": EstimatedSaving(
                amount=Decimal("96.00"),
                horizon_hours=24.0,
                formula="minutes recovered × units per minute × margin per unit",
                inputs={"minutes_recovered": 21.0, "units_per_minute": 60.0, "margin": 0.0762},
                assumptions=["half of the jam time can be recovered"],
            ),
            "unit_cost": None,
            "counters": (),
        }
    )
    lots = drift.model_copy(
        update={
            "proposal_id": "eval-lots",
            "agent": "defect_burst",
            "title": "Hold 2 lots after a burst of cap-torque failures",
            "rationale": "Four of the last six cap torque checks failed.",
            "action": LotHold(
                action_id="eval-lots-act",
                lot_ids=("L250301-007", "L250301-008"),
                reason="cap torque failures",
            ),
            "evidence": Table(
                title="Cap torque checks",
                columns=["lot", "torque N·m", "passed"],
                rows=[
                    ["L250301-007", 1.05, "no"],
                    ["L250301-007", 1.12, "no"],
                    ["L250301-008", 1.09, "no"],
                    ["L250301-008", 1.61, "yes"],
                ],
            ),
            "estimated_saving": EstimatedSaving(
                amount=Decimal("2520.00"),
                horizon_hours=168.0,
                formula="units held × unit cost × probability of recall",
                inputs={"units": 12000.0, "unit_cost": 0.21, "recall_probability": 1.0},
                assumptions=["held lots would otherwise ship this week"],
            ),
            "counters": (),
        }
    )
    return [drift, stops, lots]
