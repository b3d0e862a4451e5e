"""The sequencing agent on a crafted tool room: four orders, their plan in force worked out by hand.

Plan in force (first come, first served, minutes from 06:00): m1 WO-1/0 0-30, WO-2/1 60-70,
WO-3/0 70-80; m2 WO-1/1 30-50, WO-2/0 50-60, WO-4/1 130-140; m3 WO-3/1 80-90, WO-4/0 90-130.
Completions 50, 70, 90, 140 against dues 120, 30, 25, 200 with weights 1, 3, 3, 2: weighted
tardiness 3 x 40 + 3 x 65 = 315 minutes, makespan 140. A schedule with no order late exists
(m1 WO-3/0, WO-2/1, WO-1/0; m2 WO-2/0, WO-4/1, WO-1/1; m3 WO-3/1, WO-4/0), and one with
makespan 60; none shorter (m1 and m3 would have to be busy throughout, which WO-1 forbids).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import DispatchList
from factory_agents.agent import AgentInput, PlantReading, Proposal, VerificationWindow
from factory_agents.catalog.scheduling.sequencing_agent import SPEC, SequencingAgent
from factory_agents.catalog.scheduling.sequencing_config import SequencingConfig
from factory_agents.errors import MeasurementNotReady
from factory_agents.evidence import GanttChart
from factory_agents.isa95 import Equipment, MesData, Operation, ProductionCount, WorkOrder

T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
NOW = T0 - timedelta(minutes=10)
LINE = "shop"
M1, M2, M3 = "shop.m1", "shop.m2", "shop.m3"
# order: (priority, due minute, [(machine, minutes, planned start minute)])
ORDERS = {
    "WO-1": (3, 120, [(M1, 30, 0), (M2, 20, 30)]),
    "WO-2": (1, 30, [(M2, 10, 50), (M1, 10, 60)]),
    "WO-3": (1, 25, [(M1, 10, 70), (M3, 10, 80)]),
    "WO-4": (2, 200, [(M3, 40, 90), (M2, 10, 130)]),
}
CONFIG = SequencingConfig(line=LINE, time_limit_seconds=2.0, num_workers=1)


def minute(m: float) -> datetime:
    """A moment, minutes after 06:00."""
    return T0 + timedelta(minutes=m)


def shop(
    *,
    planned: bool = True,
    status: dict[tuple[str, int], str] | None = None,
    orders: dict[str, tuple[int, int, list[tuple[str, int, int]]]] = ORDERS,
    read_at: datetime = NOW,
) -> MesData:
    """The tool room in the MES: its machines, released orders and their operations."""
    equipment = [Equipment(id=LINE, name="Shop", level="line", parent_id="site1")] + [
        Equipment(id=m, name=m, level="cell", parent_id=LINE) for m in (M1, M2, M3)
    ]
    work_orders, operations = [], []
    for order, (priority, due, route) in orders.items():
        work_orders.append(
            WorkOrder(
                id=order, product_id="P", line_id=LINE, quantity=1, priority=priority,
                status="released", release_at=T0, due_at=minute(due),
            )
        )  # fmt: skip
        for sequence, (machine, minutes, start) in enumerate(route):
            operations.append(
                Operation(
                    work_order_id=order, sequence=sequence, equipment_id=machine,
                    duration_minutes=minutes,
                    planned_start=minute(start) if planned else None,
                    planned_end=minute(start + minutes) if planned else None,
                    status=(status or {}).get((order, sequence), "planned"),
                )
            )  # fmt: skip
    return MesData(
        read_at=read_at,
        equipment=tuple(equipment),
        work_orders=tuple(work_orders),
        operations=tuple(operations),
    )


def propose(config: SequencingConfig = CONFIG, **kwargs: object) -> Proposal:
    """The agent's one proposal on the crafted shop."""
    out = SequencingAgent(config).analyze(AgentInput(now=NOW, mes=shop(**kwargs)))  # type: ignore[arg-type]
    assert out.skipped == {}, out.findings
    (proposal,) = out.proposals
    return proposal


def test_it_proposes_a_dispatch_list_that_beats_the_plan_in_force() -> None:
    proposal = propose()
    action = proposal.action
    assert isinstance(action, DispatchList) and action.line_id == LINE
    routes = {order: route for order, (_p, _d, route) in ORDERS.items()}
    assert {(e.work_order_id, e.operation) for e in action.entries} == {
        (order, i) for order, route in routes.items() for i in range(len(route))
    }
    ends: dict[str, datetime] = {}
    for entry in sorted(action.entries, key=lambda e: (e.work_order_id, e.operation)):
        machine, minutes, _start = routes[entry.work_order_id][entry.operation]
        assert entry.equipment_id == machine
        assert entry.end - entry.start == timedelta(minutes=minutes)
        assert entry.start >= ends.get(entry.work_order_id, T0)  # routing order, from release
        ends[entry.work_order_id] = entry.end
    for machine in (M1, M2, M3):
        runs = sorted((e.start, e.end) for e in action.entries if e.equipment_id == machine)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(runs))
    dues = {order: minute(due) for order, (_p, due, _r) in ORDERS.items()}
    assert all(ends[order] <= dues[order] for order in ORDERS)  # no order late any more

    saving = proposal.estimated_saving
    assert saving.inputs["baseline_weighted_tardiness"] == 315
    assert saving.inputs["proposed_weighted_tardiness"] == 0
    assert saving.amount == Decimal("378.00")  # 315 weighted minutes x 1.20 EUR
    assert proposal.baseline.metric == "weighted_tardiness_minutes"
    assert proposal.baseline.value == 315 and proposal.baseline.start == T0
    assert proposal.baseline.end == minute(140)
    assert any("sequence in force" in a for a in saving.assumptions)
    assert proposal.measure_until is not None and proposal.measure_until > max(ends.values())
    chart = proposal.evidence
    assert isinstance(chart, GanttChart)
    assert len(chart.proposed) == len(chart.current) == 8
    assert any(t.moved for t in chart.proposed) and not any(t.moved for t in chart.current)
    assert {(t.job, t.start) for t in chart.current} == {
        (order, minute(start)) for order, route in routes.items() for _m, _d, start in route
    }


def test_makespan_is_priced_as_shop_hours_saved() -> None:
    config = CONFIG.model_copy(update={"objective": "makespan"})
    proposal = propose(config)
    assert proposal.estimated_saving.inputs["baseline_makespan"] == 140
    assert proposal.estimated_saving.inputs["proposed_makespan"] == 60
    assert proposal.estimated_saving.amount == Decimal("240.00")  # 80 min x 180 EUR/h
    assert proposal.baseline.metric == "makespan_minutes" and proposal.baseline.value == 140


def test_without_planned_starts_the_baseline_is_the_best_dispatching_rule() -> None:
    # Earliest due date first already meets every due date here: nothing left to gain.
    out = SequencingAgent(CONFIG).analyze(AgentInput(now=NOW, mes=shop(planned=False)))
    assert out.proposals == [] and out.skipped == {"improvement_below_threshold": 1}
    assert "against 0 (best dispatching rule, EDD" in out.findings[-1].message


def test_a_plan_in_force_that_is_already_best_is_left_alone() -> None:
    best = propose().action
    assert isinstance(best, DispatchList)
    starts = {(e.work_order_id, e.operation): e.start for e in best.entries}
    orders = {
        order: (
            priority,
            due,
            [
                (m, d, int((starts[(order, i)] - T0).total_seconds() // 60))
                for i, (m, d, _s) in enumerate(route)
            ],
        )
        for order, (priority, due, route) in ORDERS.items()
    }
    out = SequencingAgent(CONFIG).analyze(AgentInput(now=NOW, mes=shop(orders=orders)))
    assert out.proposals == [] and out.skipped == {"improvement_below_threshold": 1}


def test_the_same_orders_give_the_same_proposal_id_and_other_orders_another() -> None:
    first = propose()
    later = SequencingAgent(CONFIG).analyze(
        AgentInput(now=NOW + timedelta(minutes=5), mes=shop(read_at=NOW + timedelta(minutes=5)))
    )
    assert later.proposals[0].proposal_id == first.proposal_id
    assert later.proposals[0].action.action_id == first.action.action_id
    fewer = {k: v for k, v in ORDERS.items() if k != "WO-4"}
    other = SequencingAgent(CONFIG).analyze(AgentInput(now=NOW, mes=shop(orders=fewer)))
    assert other.proposals and other.proposals[0].proposal_id != first.proposal_id


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"read_at": NOW - timedelta(minutes=10)}, "stale_mes"),
        ({"status": {("WO-2", 0): "dispatched"}}, "list_in_force"),
        ({"status": {("WO-1", 0): "running"}}, "shop_running"),
        ({"orders": {"WO-1": ORDERS["WO-1"]}}, "nothing_to_sequence"),
        ({"orders": {**ORDERS, "WO-5": (2, 60, [("shop.m9", 5, 0)])}}, "bad_routing"),
    ],
)
def test_it_does_not_act_on_stale_or_unusable_data(kwargs: dict[str, object], reason: str) -> None:
    out = SequencingAgent(CONFIG).analyze(AgentInput(now=NOW, mes=shop(**kwargs)))  # type: ignore[arg-type]
    assert out.proposals == [] and out.skipped == {reason: 1}
    assert out.findings and out.findings[-1].message.startswith("not acting")


def window(proposal: Proposal, counts: list[ProductionCount]) -> VerificationWindow:
    """The verification window with these production counts in the MES."""
    end = minute(200)
    return VerificationWindow(
        before=PlantReading(values={}, at=T0),
        after=PlantReading(values={}, at=end),
        data=AgentInput(now=end, mes=MesData(read_at=end, production_counts=tuple(counts))),
    )


def completed(
    proposal: Proposal, ends: dict[str, float], first_op_end: float
) -> list[ProductionCount]:
    """Counts of each order's last operation ending at `ends`; a first operation ends later."""
    action = proposal.action
    assert isinstance(action, DispatchList)
    last = {e.work_order_id: e for e in sorted(action.entries, key=lambda e: e.operation)}
    counts = [
        ProductionCount(
            equipment_id=last[order].equipment_id, work_order_id=order,
            start=minute(end - 10), end=minute(end), good=1, scrap=0,
        )
        for order, end in ends.items()
    ]  # fmt: skip
    first = next(e for e in action.entries if e.work_order_id == "WO-3" and e.operation == 0)
    counts.append(
        ProductionCount(
            equipment_id=first.equipment_id, work_order_id="WO-3", start=minute(0),
            end=minute(first_op_end), good=1, scrap=0,
        )
    )  # fmt: skip
    return counts


def test_measure_prices_the_actual_tardiness_against_the_modelled_baseline() -> None:
    proposal = propose()
    agent = SequencingAgent(CONFIG)
    # WO-3 completes at 31 (6 min late x weight 3 = 18); the others in time. Its first
    # operation's count (ending at 150) is not its completion.
    counts = completed(proposal, {"WO-1": 75, "WO-2": 22, "WO-3": 31, "WO-4": 80}, 150)
    realized = agent.measure(proposal, window(proposal, counts))
    assert realized.metric_after == pytest.approx(18)
    assert realized.amount == Decimal("356.40")  # (315 - 18) x 1.20
    assert realized.units == 4
    assert "measured" in realized.method and "modelled" in realized.method


def test_measure_waits_for_every_order_to_complete() -> None:
    proposal = propose()
    counts = completed(proposal, {"WO-1": 75, "WO-2": 22, "WO-3": 31}, 20)
    with pytest.raises(MeasurementNotReady, match="WO-4"):
        SequencingAgent(CONFIG).measure(proposal, window(proposal, counts))


def test_the_spec_proposes_dispatch_lists() -> None:
    assert SPEC.actions == ("dispatch_list",) and SPEC.create({}).needs().mes[-1] == (
        "production_counts"
    )
