"""The copilot: answers from read-only tools, cited; refusals; drafts only through the schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from factory_agents import site
from factory_agents.actions import SetpointChange
from factory_agents.isa95 import DowntimeEvent
from factory_agents.ledger.repository import Ledger
from factory_agents.llm.copilot import NO_MODEL_LABEL, ask
from factory_agents.llm.copilot_contract import RecordingDraftSink
from factory_agents.llm.errors import ModelCallError
from factory_agents.llm.fakes import (
    FailingChatModel,
    ScriptedChatModel,
    call_tools,
    raw_tool_calls,
    reply,
    tool_call,
)
from factory_agents.llm.reader import PlatformReader, line_kpis_from
from factory_agents.llm.router import ConfiguredModel, ModelRef, TaskModels
from tests.factories import build_proposal
from tests.llm.helpers import NOW, StaticTags

READ_ONLY = [
    "read_tags",
    "tag_history",
    "line_kpis",
    "list_proposals",
    "savings",
    "dispatch_list",
    "quality_results",
    "downtime",
]


def copilot(*steps: Any, label: str = "openai:gpt-4o-mini") -> tuple[TaskModels, ScriptedChatModel]:
    model = ScriptedChatModel(label=label, script=list(steps))
    return TaskModels("copilot", [ConfiguredModel(ModelRef.parse(label), model)]), model


def setpoint_draft(to_value: float, *, from_value: float = 500.0, **extra: Any) -> dict[str, Any]:
    action = {
        "kind": "setpoint_change",
        "action_id": "copilot-a1",
        "node_id": site.FILL_SETPOINT,
        "from_value": from_value,
        "to_value": to_value,
        "unit": "g",
        **extra,
    }
    return {
        "title": "Lower the fill setpoint",
        "rationale": "asked by the engineer",
        "action": action,
    }


# ---------------------------------------------------------------- without a model


async def test_current_value_of_a_tag_without_a_model(reader: PlatformReader) -> None:
    answer = await ask(
        "What is the current value of Line1.Filler.FillWeightSetpoint?", reader, None, max_steps=4
    )

    assert answer.generated_by == "deterministic"
    assert answer.label == NO_MODEL_LABEL
    assert not answer.needs_model
    assert answer.answer.startswith(f"{site.FILL_SETPOINT} = 500 g (quality good")
    (citation,) = answer.citations
    assert (citation.value, citation.source) == (500.0, f"read_tags:{site.FILL_SETPOINT}")
    assert answer.unsupported_numbers == []


@pytest.mark.parametrize(
    "question",
    [
        "current value of ns=2;s=Line1.Filler.FillWeightSetpoint",
        "What is the live value of the FillWeightSetpoint?",
        "reading of line1.filler.fillweightsetpoint",
    ],
)
async def test_tags_are_found_by_node_id_path_or_name(
    reader: PlatformReader, question: str
) -> None:
    answer = await ask(question, reader, None, max_steps=4)

    (call,) = answer.tool_calls
    assert call.args == {"tags": [site.FILL_SETPOINT]}


async def test_history_of_a_tag_over_a_window_without_a_model(reader: PlatformReader) -> None:
    answer = await ask(
        "history of Line1.GoodCount over the last 30 minutes", reader, None, max_steps=4
    )

    (call,) = answer.tool_calls
    assert (call.name, call.args) == ("tag_history", {"tag": site.LINE_GOOD, "minutes": 30.0})
    assert "10 good values, min 1191, max 1200" in answer.answer
    assert answer.unsupported_numbers == []


async def test_pending_proposals_without_a_model(reader: PlatformReader, ledger: Ledger) -> None:
    proposal = build_proposal("prop-7", created_at=NOW)
    ledger.record_proposal(proposal, run_id=None, expires_at=NOW + timedelta(hours=1))

    answer = await ask("Which proposals are pending?", reader, None, max_steps=4)

    assert "1 pending proposal(s):" in answer.answer
    assert "prop-7 (spc_drift, pending)" in answer.answer
    assert "125.40 EUR over 8 h" in answer.answer
    sources = {c.source for c in answer.citations}
    assert "list_proposals:proposal[prop-7].estimated_saving" in sources


async def test_savings_of_an_agent_without_a_model(reader: PlatformReader, ledger: Ledger) -> None:
    ledger.record_proposal(build_proposal("p1"), run_id=None, expires_at=NOW + timedelta(hours=1))

    answer = await ask("savings of spc_drift", reader, None, max_steps=4)

    assert answer.answer.startswith("spc_drift: estimated 125.40 EUR over 1 proposal(s)")
    assert "never added" in answer.answer
    (call,) = answer.tool_calls
    assert (call.name, call.args) == ("savings", {"agent": "spc_drift"})


async def test_kpis_without_a_model_use_mes_stops_and_counter_growth(
    reader: PlatformReader,
) -> None:
    answer = await ask(
        "What was the availability over the last 24 hours?", reader, None, max_steps=4
    )

    (call,) = answer.tool_calls
    assert (call.name, call.args) == ("line_kpis", {"hours": 24.0})
    # The static counters rise by 9 over any window: 9 good, 9 scrap.
    assert call.facts["kpi.good"] == 9 and call.facts["kpi.scrap"] == 9
    assert call.facts["kpi.quality_ratio"] == 0.5
    assert "quality ratio 50 %" in answer.answer
    assert 0 < call.facts["kpi.availability"] <= 1


def test_availability_counts_overlapping_stops_once_and_planned_ones_outside() -> None:
    def stop(number: int, start_min: int, end_min: int, planned: bool) -> DowntimeEvent:
        return DowntimeEvent(
            id=number,
            equipment_id="line1.filler",
            started_at=NOW + timedelta(minutes=start_min),
            ended_at=NOW + timedelta(minutes=end_min),
            reason_code="X",
            reason="x",
            planned=planned,
        )

    kpis = line_kpis_from(
        "line1",
        NOW,
        NOW + timedelta(hours=8),
        [stop(1, 0, 60, True), stop(2, 45, 75, False), stop(3, 120, 130, False)],
        good=970,
        scrap=20,
        rework=10,
        counts_from="test",
    )

    # PBT = 480 − 60 planned; unplanned = 15 (75 − 60) + 10; APT = 420 − 25
    assert kpis.availability == pytest.approx(395 / 420)
    assert (kpis.planned_downtime_minutes, kpis.unplanned_downtime_minutes) == (60.0, 25.0)
    assert kpis.quality_ratio == pytest.approx(970 / 1000)
    assert kpis.scrap_ratio == pytest.approx(20 / 1000)


async def test_other_questions_say_plainly_they_need_a_model(reader: PlatformReader) -> None:
    answer = await ask("Why did scrap rise during the night shift?", reader, None, max_steps=4)

    assert answer.needs_model
    assert answer.answer.startswith("This question needs a language model, and none is configured.")
    assert "FACTORY_LLM_MODELS" in answer.answer
    assert '"pending proposals"' in answer.answer
    assert answer.tool_calls == []


async def test_asking_for_an_action_without_a_model_changes_nothing(
    reader: PlatformReader, tags: StaticTags
) -> None:
    answer = await ask("Set the fill setpoint to 502 g", reader, None, max_steps=4)

    assert answer.needs_model
    assert "never changes the plant" in answer.answer
    assert answer.tool_calls == [] and tags.reads == []


async def test_an_unknown_tag_is_named_with_the_known_ones(reader: PlatformReader) -> None:
    answer = await ask("current value of Line9.Nothing", reader, None, max_steps=4)

    assert answer.answer.startswith("I do not know the tag 'Line9.Nothing'; known tags:")
    assert site.FILL_SETPOINT in answer.answer
    assert not answer.needs_model


# ---------------------------------------------------------------- with a model


async def test_model_answers_with_tools_and_cites_the_numbers(reader: PlatformReader) -> None:
    models, model = copilot(
        call_tools(tool_call("read_tags", {"tags": [site.FILL_SETPOINT, site.LINE_GOOD]})),
        reply("The setpoint is 500 g and the line has counted 1,200 good units."),
    )

    answer = await ask("What is the setpoint and the good count?", reader, models, max_steps=4)

    assert answer.generated_by == "openai:gpt-4o-mini"
    assert answer.answer.endswith("1,200 good units.")
    assert [(c.text, c.source) for c in answer.citations] == [
        ("500", f"read_tags:{site.FILL_SETPOINT}"),
        ("1,200", f"read_tags:{site.LINE_GOOD}"),
    ]
    assert answer.unsupported_numbers == []
    assert [c.status for c in answer.tool_calls] == ["executed"]
    assert all(call.tools == READ_ONLY for call in model.calls)
    assert answer.steps == 2


async def test_a_number_no_tool_returned_is_flagged(reader: PlatformReader) -> None:
    models, _ = copilot(
        call_tools(tool_call("read_tags", {"tags": [site.FILL_SETPOINT]})),
        reply("The setpoint is 505 g."),
    )

    answer = await ask("setpoint?", reader, models, max_steps=4)

    assert answer.citations == []
    assert answer.unsupported_numbers == ["505"]


async def test_the_tool_loop_stops_at_the_step_cap(reader: PlatformReader) -> None:
    read = tool_call("read_tags", {"tags": [site.LINE_GOOD]})
    models, model = copilot(call_tools(read), call_tools(read), call_tools(read))

    answer = await ask("count?", reader, models, max_steps=2)

    assert answer.steps == 2 and len(model.calls) == 2
    assert answer.stopped is not None and "stopped after 2 model calls" in answer.stopped
    assert f"{site.LINE_GOOD} = 1200" in answer.answer


async def test_a_tool_off_the_allow_list_is_refused_and_not_run(
    reader: PlatformReader, tags: StaticTags
) -> None:
    models, model = copilot(
        call_tools(tool_call("write_setpoint", {"node_id": site.FILL_SETPOINT, "value": 520})),
        reply("I cannot change setpoints."),
    )

    answer = await ask("Raise the setpoint", reader, models, max_steps=4)

    (refused,) = answer.refusals
    assert refused.name == "write_setpoint"
    assert refused.message.startswith("tool 'write_setpoint' is not on the allow-list (read_tags,")
    assert "nothing was executed" in refused.message
    assert tags.reads == []
    sent_back = model.calls[1].messages[-1]
    assert getattr(sent_back, "status", None) == "error"
    assert "not on the allow-list" in str(sent_back.content)


async def test_arguments_outside_the_schema_are_refused(
    reader: PlatformReader, tags: StaticTags
) -> None:
    models, _ = copilot(
        call_tools(
            tool_call("read_tags", {"tags": site.LINE_GOOD, "force": True}),
            tool_call("tag_history", {"tag": site.LINE_GOOD, "minutes": -5}),
        ),
        reply("Sorry."),
    )

    answer = await ask("count?", reader, models, max_steps=4)

    first, second = answer.refusals
    assert "arguments of read_tags do not fit its schema" in first.message
    assert "force: Extra inputs are not permitted" in first.message
    assert "minutes: Input should be greater than 0" in second.message
    assert tags.reads == []


async def test_arguments_that_are_not_json_are_refused(
    reader: PlatformReader, tags: StaticTags
) -> None:
    models, _ = copilot(raw_tool_calls([("read_tags", '{"tags": [')]), reply("Sorry."))

    answer = await ask("count?", reader, models, max_steps=4)

    (refused,) = answer.refusals
    assert refused.name == "read_tags"
    assert "are not valid JSON" in refused.message
    assert refused.args == '{"tags": ['
    assert tags.reads == []


async def test_a_draft_within_the_guardrails_is_handed_on_as_pending(
    reader: PlatformReader,
) -> None:
    models, model = copilot(
        call_tools(tool_call("draft_proposal", setpoint_draft(502.0))),
        reply("I drafted it; an engineer must approve it."),
    )
    sink = RecordingDraftSink()

    answer = await ask(
        "Raise the fill setpoint by 2 g",
        reader,
        models,
        max_steps=4,
        allow_drafts=True,
        draft_sink=sink,
        policy=site.DEFAULT_POLICY,
    )

    (draft,) = sink.drafts
    assert isinstance(draft.action, SetpointChange)
    assert (draft.action.from_value, draft.action.to_value) == (500.0, 502.0)
    assert (
        draft.question == "Raise the fill setpoint by 2 g" and draft.model == "openai:gpt-4o-mini"
    )
    (outcome,) = answer.drafts
    assert outcome.status == "recorded" and outcome.proposal_id == draft.draft_id
    assert "needs an engineer's approval" in outcome.reason
    assert model.calls[0].tools == [*READ_ONLY, "draft_proposal"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (setpoint_draft(502.0, from_value=499.0), "is not the live value 500"),
        (setpoint_draft(507.0), "exceeds the maximum step of 4 g"),
    ],
)
async def test_drafts_failing_the_live_value_or_guardrails_are_refused(
    reader: PlatformReader, args: dict[str, Any], expected: str
) -> None:
    models, _ = copilot(call_tools(tool_call("draft_proposal", args)), reply("Refused."))
    sink = RecordingDraftSink()

    answer = await ask(
        "change it",
        reader,
        models,
        max_steps=4,
        allow_drafts=True,
        draft_sink=sink,
        policy=site.DEFAULT_POLICY,
    )

    assert sink.drafts == []
    (outcome,) = answer.drafts
    assert outcome.status == "refused" and expected in outcome.reason
    assert answer.tool_calls[0].status == "refused"


async def test_a_draft_with_fields_outside_the_action_schema_is_refused(
    reader: PlatformReader,
) -> None:
    models, _ = copilot(
        call_tools(tool_call("draft_proposal", setpoint_draft(502.0, execute_now=True))),
        reply("Refused."),
    )
    sink = RecordingDraftSink()

    answer = await ask(
        "x",
        reader,
        models,
        max_steps=4,
        allow_drafts=True,
        draft_sink=sink,
        policy=site.DEFAULT_POLICY,
    )

    assert sink.drafts == [] and answer.drafts == []
    (refused,) = answer.refusals
    assert "action fields execute_now are not part of setpoint_change" in refused.message


async def test_a_model_outage_falls_back_to_the_tools_or_is_retryable(
    reader: PlatformReader,
) -> None:
    down = FailingChatModel(label="openai:gpt-4o-mini")
    models = TaskModels("copilot", [ConfiguredModel(ModelRef.parse(down.label), down)])
    question = "current value of Line1.GoodCount"

    with pytest.raises(ModelCallError, match="no model configured for copilot answered"):
        await ask(question, reader, models, max_steps=4, fallback_on_call_failure=False)

    answer = await ask(question, reader, models, max_steps=4)
    assert answer.generated_by == "deterministic"
    assert "The configured models failed" in answer.label
    assert answer.citations[0].value == 1200.0


async def test_estimated_amounts_are_decimals_in_the_tool_facts(
    reader: PlatformReader, ledger: Ledger
) -> None:
    ledger.record_proposal(
        build_proposal("p2", amount=Decimal("10.05")),
        run_id=None,
        expires_at=NOW + timedelta(hours=1),
    )
    models, _ = copilot(
        call_tools(tool_call("list_proposals", {"status": "pending"})),
        reply("p2 would save 10.05 EUR."),
    )

    answer = await ask("pending?", reader, models, max_steps=4)

    (citation,) = answer.citations
    assert citation.source == "list_proposals:proposal[p2].estimated_saving"
    assert citation.value == 10.05
