"""The OEE loss agent on crafted MES data: advice on a stop reason that dominates, with the
numbers worked by hand; no advice when none dominates or the data are too few; the realized
saving as the observed change of the reason's rate after the advice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from factory_agents.actions import Advice
from factory_agents.agent import AgentInput, PlantReading, Proposal, VerificationWindow
from factory_agents.catalog.losses.oee_loss_agent import SPEC, OeeLossAgent, OeeLossConfig
from factory_agents.errors import DataQualityError
from factory_agents.evidence import BarChart
from factory_agents.isa95 import (
    DowntimeEvent,
    Equipment,
    MesData,
    Operation,
    ProductionCount,
    WorkOrder,
)

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
NOW = START + timedelta(hours=2, minutes=5)
PERIOD = 7_200.0
"""Two hours of production counts, 08:00-10:00."""
EQUIPMENT = (
    Equipment(id="site1", name="Plant", level="site"),
    Equipment(id="line1", name="Line 1", level="line", parent_id="site1"),
    Equipment(id="line1.labeler", name="Labeler", level="cell", parent_id="line1"),
    Equipment(id="line1.capper", name="Capper", level="cell", parent_id="line1"),
    Equipment(id="line2", name="Line 2", level="line", parent_id="site1"),
)
JAM = ("DT-JAM", "Label jam at the labeler infeed", "line1.labeler")
CAP = ("DT-CAPF", "Cap feeder empty", "line1.capper")


def minute(m: float) -> datetime:
    """A moment `m` minutes after 08:00."""
    return START + timedelta(minutes=m)


def stop(
    n: int, reason: tuple[str, str, str], at: float, minutes: float | None, planned: bool = False
) -> DowntimeEvent:
    """Stop number `n` of a reason at minute `at`, lasting `minutes` (None: still open)."""
    code, text, equipment = reason
    end = None if minutes is None else minute(at + minutes)
    return DowntimeEvent(
        id=n, equipment_id=equipment, started_at=minute(at), ended_at=end,
        reason_code=code, reason=text, planned=planned,
    )  # fmt: skip


def jams(count: int, first: int = 0, every: float = 12, start: float = 5) -> list[DowntimeEvent]:
    """`count` one-minute label jams, every `every` minutes from minute `start`."""
    return [stop(first + k, JAM, start + every * k, 1) for k in range(count)]


def counts(
    line: str = "line1", n: int = 12, minutes: float = 10, good: int = 530, scrap: int = 5
) -> list[ProductionCount]:
    """`n` production counts of `minutes` each from 08:00."""
    return [
        ProductionCount(
            equipment_id=line, work_order_id="WO-1", start=minute(minutes * k),
            end=minute(minutes * (k + 1)), good=good, scrap=scrap,
        )
        for k in range(n)
    ]  # fmt: skip


def mes(
    downtime: list[DowntimeEvent], production: list[ProductionCount], routing_minutes: float = 60
) -> MesData:
    """The line's MES: WO-1 of 3,600 units routed at `routing_minutes` (PRI = that / 60 s)."""
    order = WorkOrder(
        id="WO-1", product_id="FG", line_id="line1", quantity=3_600, status="running",
        release_at=minute(-60), due_at=minute(600),
    )  # fmt: skip
    routing = [
        Operation(work_order_id="WO-1", sequence=0, equipment_id="line1.labeler",
                  duration_minutes=routing_minutes),
        Operation(work_order_id="WO-1", sequence=1, equipment_id="line1.capper",
                  duration_minutes=routing_minutes / 2),
    ]  # fmt: skip
    return MesData(
        equipment=EQUIPMENT,
        work_orders=(order,),
        operations=tuple(routing),
        downtime=tuple(downtime),
        production_counts=tuple(production),
    )


def dominated(routing_minutes: float = 60) -> MesData:
    """Ten one-minute jams and one two-minute cap-feeder stop in two hours (and one jam before)."""
    downtime = [stop(99, JAM, -30, 5), *jams(10), stop(50, CAP, 60, 2)]
    return mes(downtime, counts(), routing_minutes)


@pytest.fixture
def agent() -> OeeLossAgent:
    return OeeLossAgent(OeeLossConfig())


def advised(agent: OeeLossAgent, data: MesData) -> Proposal:
    """The one proposal the agent makes on `data`."""
    (proposal,) = agent.analyze(AgentInput(now=NOW, mes=data)).proposals
    return proposal


def test_a_dominant_stop_reason_gets_advice_naming_it_with_the_numbers(
    agent: OeeLossAgent,
) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=dominated()))
    (proposal,) = out.proposals
    action = proposal.action
    assert isinstance(action, Advice)
    assert action.topic == "oee:line1:DT-JAM" and proposal.line == "line1"
    assert "Label jam at the labeler infeed" in action.summary and "10 times" in action.summary
    assert proposal.counters == ()

    # By hand: 10 min of jams and 2 min of cap feeder in 120 min; 12 x 535 units in 108 min
    produced, running = 12 * 535, PERIOD - 720
    exposed = PERIOD - 120  # the hours the cap feeder did not hold the line
    rate = 600 / (exposed / 3600)
    per_running_hour = produced / running * 3600
    lost_per_hour = rate / 3600 * exposed / PERIOD * per_running_hour
    assert lost_per_hour == pytest.approx(600 / PERIOD * per_running_hour)
    estimate = proposal.estimated_saving
    assert estimate.amount == Decimal(str(round(lost_per_hour * 8 * 0.5 * 0.12, 2)))
    assert estimate.inputs["loss_seconds_per_hour"] == pytest.approx(rate, abs=0.01)
    assert estimate.inputs["units_per_running_hour"] == pytest.approx(per_running_hour, abs=0.1)
    assert estimate.horizon_hours == 8 and estimate.currency == "EUR"
    assert any("recovers 50 %" in a for a in estimate.assumptions)
    assert proposal.baseline.value == pytest.approx(rate)
    assert (proposal.baseline.start, proposal.baseline.end) == (minute(0), minute(120))
    assert proposal.baseline.units == produced
    assert estimate.inputs["reason_stops"] == 10, "the jam before the counts began is not counted"

    chart = proposal.evidence
    assert isinstance(chart, BarChart) and chart.unit == "min"
    assert [(b.category.split()[0], b.value, b.group) for b in chart.bars] == [
        ("DT-JAM", 10.0, "advised"),
        ("DT-CAPF", 2.0, "other stops"),
    ]
    # ISO 22400: availability 108/120, effectiveness 6420 x 1 s / 6480 s, quality 6360/6420
    assert "availability 90.0 %" in proposal.rationale
    assert "The largest loss is availability: 12.0 min" in proposal.rationale
    assert "83 % of the stop time" in proposal.title
    assert any("OEE" in f.message for f in out.findings)


def test_an_unusable_routing_is_reported_and_does_not_change_the_advice(
    agent: OeeLossAgent,
) -> None:
    # 2 s per item would have made only 3,240 units in 108 min of running; the line made 6,420.
    fast = advised(agent, dominated(routing_minutes=120))
    normal = advised(agent, dominated())
    assert fast.estimated_saving.amount == normal.estimated_saving.amount
    assert "effectiveness not judged" in fast.rationale and "OEE" not in fast.rationale
    assert any("effectiveness not judged" in a for a in fast.estimated_saving.assumptions)
    no_routing = dominated().model_copy(update={"operations": ()})
    assert "no planned run time per item" in advised(agent, no_routing).rationale


def test_no_dominant_reason_gets_no_advice(agent: OeeLossAgent) -> None:
    even = [*jams(5), *[stop(20 + k, CAP, 11 + 24 * k, 1) for k in range(5)]]
    out = agent.analyze(AgentInput(now=NOW, mes=mes(even, counts())))
    assert out.proposals == []
    assert any("no single stop reason dominates" in f.message for f in out.findings)
    assert any("50 % of the stop time" in f.message for f in out.findings)


def test_a_reason_that_stopped_the_line_twice_is_not_a_pattern(agent: OeeLossAgent) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=mes(jams(2, every=40), counts())))
    assert out.proposals == []
    assert any("2 stop(s) (advice from 3)" in f.message for f in out.findings)


def test_a_small_loss_is_not_worth_advice(agent: OeeLossAgent) -> None:
    short = [stop(k, JAM, 5 + 12 * k, 0.2) for k in range(5)]  # 1 min of 120: 0.8 %
    out = agent.analyze(AgentInput(now=NOW, mes=mes(short, counts())))
    assert out.proposals == []
    assert any("0.8 % of planned busy time" in f.message for f in out.findings)


@pytest.mark.parametrize(
    ("production", "reason"),
    [
        ([], "no production counts in the last 8 h"),
        (counts(n=2), "2 production count(s)"),
        (counts(n=6, minutes=4), "cover 24.0 min; 30 min are needed"),
    ],
)
def test_too_little_data_is_skipped(
    agent: OeeLossAgent, production: list[ProductionCount], reason: str
) -> None:
    out = agent.analyze(AgentInput(now=NOW, mes=mes(jams(10), production)))
    assert out.proposals == []
    assert out.skipped == {"insufficient_data": 1}
    assert any(reason in f.message for f in out.findings)


def test_counts_older_than_the_look_back_are_not_judged() -> None:
    agent = OeeLossAgent(OeeLossConfig(lookback_hours=1))
    proposal = advised(agent, dominated())
    # Since 09:05, five counts cover 09:10-10:00: four jams (09:17 ... 09:53), no cap feeder stop
    assert (proposal.baseline.start, proposal.baseline.end) == (minute(70), minute(120))
    assert proposal.estimated_saving.inputs["reason_stops"] == 4
    assert proposal.baseline.value == pytest.approx(4 * 60 / (50 / 60))
    assert [b.category.split()[0] for b in proposal.evidence.bars] == ["DT-JAM"]  # type: ignore[union-attr]


def test_every_line_with_counts_is_judged_when_none_is_named() -> None:
    agent = OeeLossAgent(OeeLossConfig(lines=()))
    data = dominated().model_copy(
        update={"production_counts": (*dominated().production_counts, *counts(line="line2"))}
    )
    out = agent.analyze(AgentInput(now=NOW, mes=data))
    assert [p.line for p in out.proposals] == ["line1"]
    assert any(f.message.startswith("line2, 2026-11-23 08:00") for f in out.findings)


def test_the_same_data_give_the_same_advice_and_new_counts_a_new_one(
    agent: OeeLossAgent,
) -> None:
    first, again = advised(agent, dominated()), advised(agent, dominated())
    assert first.content_hash() == again.content_hash()
    later = agent.analyze(AgentInput(now=NOW + timedelta(minutes=3), mes=dominated()))
    assert later.proposals[0].proposal_id == first.proposal_id, "no new count: same judgement"
    more = dominated().model_copy(update={"production_counts": tuple(counts(n=13))})
    newer = agent.analyze(AgentInput(now=NOW + timedelta(minutes=15), mes=more))
    assert newer.proposals[0].proposal_id != first.proposal_id
    assert newer.proposals[0].action.subject == first.action.subject, "one open per reason"


def window(downtime: list[DowntimeEvent], start: float, end: float) -> VerificationWindow:
    """The verification window from minute `start` to `end`, with the MES's stops in it."""
    return VerificationWindow(
        before=PlantReading(values={}, at=minute(start)),
        after=PlantReading(values={}, at=minute(end)),
        data=AgentInput(now=minute(end), mes=mes(downtime, [])),
    )


def test_fewer_jams_after_the_advice_is_an_observed_saving(agent: OeeLossAgent) -> None:
    proposal = advised(agent, dominated())
    rate = proposal.baseline.value
    per_running_hour = proposal.estimated_saving.inputs["units_per_running_hour"]
    # An hour after the advice with 2 one-minute jams, against about 5 at the old rate
    realized = agent.measure(proposal, window(jams(2, every=20, start=130), 125, 185))
    recovered = rate - 120.0  # s per hour, over one exposed hour
    units = recovered / 3600 * per_running_hour
    assert realized.metric_after == pytest.approx(120.0)
    assert realized.amount == Decimal(str(round(units * 0.12, 2)))
    assert realized.units == round(units) and realized.period_hours == pytest.approx(1.0)
    assert realized.method.startswith("observed change after the advice, not proof of cause")


def test_more_jams_after_the_advice_is_a_negative_saving(agent: OeeLossAgent) -> None:
    proposal = advised(agent, dominated())
    more = [stop(k, JAM, 130 + 6 * k, 1) for k in range(9)]  # 9 min in an hour
    realized = agent.measure(proposal, window(more, 125, 185))
    assert realized.metric_after == pytest.approx(540.0)
    assert realized.amount < 0 and realized.units < 0


def test_a_breakdown_in_the_window_does_not_pass_for_fewer_jams(agent: OeeLossAgent) -> None:
    proposal = advised(agent, dominated())
    breakdown = stop(70, ("DT-VALVE", "Filler valve fault", "line1.labeler"), 125, 40)
    # The line ran 20 of the 60 minutes and jammed twice in them: 360 s/h against about 305.
    realized = agent.measure(proposal, window([breakdown, *jams(2, first=80, start=170)], 125, 185))
    assert realized.metric_after == pytest.approx(2 * 60 / (20 / 60))
    assert realized.amount < 0, "2 jams in 20 running minutes is worse, not better"
    held = agent.measure(proposal, window([stop(71, CAP, 120, 70)], 125, 185))
    assert held.amount == 0 and "could not occur" in held.method


def test_an_open_jam_counts_up_to_the_end_of_the_window(agent: OeeLossAgent) -> None:
    proposal = advised(agent, dominated())
    realized = agent.measure(proposal, window([stop(90, JAM, 180, None)], 125, 185))
    assert realized.metric_after == pytest.approx(300.0)


def test_it_measures_only_its_own_advice(agent: OeeLossAgent) -> None:
    proposal = advised(agent, dominated())
    other = proposal.model_copy(
        update={"action": Advice(action_id="a-x", topic="energy:site1", summary="shift loads")}
    )
    with pytest.raises(DataQualityError, match="its own advice"):
        agent.measure(other, window([], 125, 185))


def test_it_reads_the_mes_it_needs_over_its_look_back(agent: OeeLossAgent) -> None:
    needs = agent.needs()
    assert set(needs.mes) == {
        "equipment", "work_orders", "operations", "downtime", "production_counts"
    }  # fmt: skip
    assert needs.mes_lookback_hours == 8.0 and needs.history == () and needs.current == ()
    assert SPEC.actions == ("advice",) and SPEC.domain == "losses"
