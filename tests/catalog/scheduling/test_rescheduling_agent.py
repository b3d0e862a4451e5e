"""The rescheduling agent on crafted data: state checks, breakdown time, a hand-checked repair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factory_agents.agent import AgentInput
from factory_agents.catalog.scheduling.machine_down import MachineDown, NotUsable, machine_down
from factory_agents.catalog.scheduling.rescheduling_agent import ReschedulingAgent
from factory_agents.catalog.scheduling.rescheduling_config import ReschedulingConfig
from factory_agents.isa95 import Equipment, MesData, Operation, WorkOrder
from factory_agents.plant import Quality, Sample

NOW = datetime(2026, 11, 24, 8, 0, 10, tzinfo=UTC)
C = ReschedulingConfig(time_unit_seconds=60, min_saving="0.01", time_limit_seconds=2)
MILL, LATHE = "toolroom.mill", "toolroom.lathe"


def sample(tag: str, value: float, at: datetime, quality: Quality = Quality.GOOD) -> Sample:
    return Sample(tag=tag, value=value, source_time=at, quality=quality)


def states(mill: float, quality: Quality = Quality.GOOD, age: float = 1) -> AgentInput:
    """Every machine Idle (4) a minute ago; the mill's current state as given."""
    current, history = {}, {}
    for machine, tag in C.state_tags.items():
        value = mill if machine == MILL else 4.0
        current[tag] = sample(tag, value, NOW - timedelta(seconds=age), quality)
        history[tag] = [sample(tag, 4.0, NOW - timedelta(seconds=60))]
    return AgentInput(now=NOW, current=current, history=history, mes=shop())


def shop() -> MesData:
    """A: mill 10 min then lathe 10 min (low priority); B: lathe 10 min (urgent, due in 10).

    Plan in force: A/0 mill [0,10], A/1 lathe [10,20], B lathe [20,30]."""
    start = NOW
    equipment = (
        Equipment(id="toolroom", name="Tool room", level="line", parent_id="site1.workshop"),
        Equipment(id=MILL, name="Mill", level="cell", parent_id="toolroom"),
        Equipment(id=LATHE, name="Lathe", level="cell", parent_id="toolroom"),
    )
    orders = (
        WorkOrder(id="A", product_id="P", line_id="toolroom", quantity=1, priority=3,
                  status="released", release_at=start, due_at=start + timedelta(minutes=60)),
        WorkOrder(id="B", product_id="P", line_id="toolroom", quantity=1, priority=1,
                  status="released", release_at=start, due_at=start + timedelta(minutes=10)),
    )  # fmt: skip
    m = timedelta(minutes=1)
    ops = (
        Operation(work_order_id="A", sequence=0, equipment_id=MILL, duration_minutes=10,
                  planned_start=start, status="planned"),
        Operation(work_order_id="A", sequence=1, equipment_id=LATHE, duration_minutes=10,
                  planned_start=start + 10 * m, status="planned"),
        Operation(work_order_id="B", sequence=0, equipment_id=LATHE, duration_minutes=10,
                  planned_start=start + 20 * m, status="planned"),
    )  # fmt: skip
    return MesData(read_at=NOW, equipment=equipment, work_orders=orders, operations=ops)


def test_down_is_only_taken_from_good_fresh_state_with_a_change() -> None:
    assert machine_down(states(6.0), MILL, C) is None
    bad = machine_down(states(9.0, Quality.UNCERTAIN), MILL, C)
    assert isinstance(bad, NotUsable) and bad.reason == "bad_state"
    stale = machine_down(states(9.0, age=60), MILL, C)
    assert isinstance(stale, NotUsable) and stale.reason == "stale_state"
    down = machine_down(states(9.0), MILL, C)
    assert isinstance(down, MachineDown)
    assert down.since == NOW - timedelta(seconds=1) and down.since_from == "state tag change"
    # no repair tag: the configured 600 s from when it went down
    assert down.up_at == down.since + timedelta(seconds=600)


def test_a_breakdown_is_repaired_by_letting_the_urgent_order_go_first() -> None:
    out = ReschedulingAgent(C).analyze(states(9.0))
    (proposal,) = out.proposals
    inputs = proposal.estimated_saving.inputs
    # origin = now (nothing running), so now = 0; the mill is back at ceil(599 s / 60) = 10.
    # Right-shift: A/0 mill [10,20], A/1 lathe [20,30], B lathe [30,40]: B 30 late x weight 3.
    assert inputs["right_shift_weighted_tardiness"] == 90
    # Re-optimised: B lathe [0,10] on time; A/0 [10,20], A/1 [20,30], due 60: nothing late.
    assert inputs["proposed_weighted_tardiness"] == 0
    # 90 weighted minutes x 1.20 EUR
    assert str(proposal.estimated_saving.amount) == "108.00"
    moved = {t.label for t in proposal.evidence.proposed if t.moved}  # type: ignore[union-attr]
    assert moved == {"A op 0", "A op 1", "B op 0"}
    again = ReschedulingAgent(C).analyze(states(9.0).model_copy(update={"now": NOW}))
    assert again.proposals[0].proposal_id == proposal.proposal_id


def test_without_a_breakdown_nothing_is_proposed() -> None:
    out = ReschedulingAgent(C).analyze(states(6.0))
    assert out.skipped == {"no_breakdown": 1} and not out.proposals
