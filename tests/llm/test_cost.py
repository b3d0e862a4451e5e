"""Cost accounting: tokens from usage metadata × the price table, per task and per success."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from langchain_core.messages import AIMessage, HumanMessage

from factory_agents.llm.config import LlmConfig, ModelPrice, ModelRef
from factory_agents.llm.cost import (
    InMemoryUsageSink,
    TokenUsage,
    UsageMeter,
    UsageRecord,
    cost_of,
    summarize,
    usage_of,
)
from factory_agents.llm.fakes import FailingChatModel, ScriptedChatModel, reply, usage
from factory_agents.llm.router import ConfiguredModel, TaskModels

MINI = ModelPrice(input_per_million=Decimal("0.15"), output_per_million=Decimal("0.60"))


def record(
    task_id: str, cost: str, *, task: str = "copilot", ok: bool = True, task_ok: bool = True
) -> UsageRecord:
    return UsageRecord(
        call_id=f"{task_id}-{cost}-{ok}",
        task_id=task_id,
        task=task,  # type: ignore[arg-type]
        model="openai:gpt-4o-mini",
        input_tokens=100,
        output_tokens=10,
        usage_reported=True,
        cost=Decimal(cost),
        currency="USD",
        latency_seconds=0.5,
        call_ok=ok,
        task_ok=task_ok,
        at=datetime.now(UTC),
    )


def test_cost_is_tokens_times_price_per_million_in_decimal() -> None:
    cost = cost_of(TokenUsage(input_tokens=12_000, output_tokens=3_500), MINI)

    # 12 000 × 0.15 / 1e6 + 3 500 × 0.60 / 1e6 = 0.0018 + 0.0021
    assert cost == Decimal("0.0039")
    assert isinstance(cost, Decimal)


def test_usage_comes_from_the_message_usage_metadata() -> None:
    tokens = usage_of(AIMessage(content="x", usage_metadata=usage(321, 45)))
    missing = usage_of(AIMessage(content="x"))

    assert (tokens.input_tokens, tokens.output_tokens, tokens.reported) == (321, 45, True)
    assert (missing.input_tokens, missing.output_tokens, missing.reported) == (0, 0, False)


def test_cost_per_task_and_per_successful_task() -> None:
    records = [
        record("q1", "0.004"),
        record("q1", "0.002"),  # two calls of one successful task
        record("q2", "0.003", task_ok=False),  # a failed task still cost money
        record("q3", "0.001", ok=False, task_ok=True),  # a failed call inside a success
        record("e1", "0.010", task="explain"),
    ]

    by_task = {line.task: line for line in summarize(records)}

    copilot = by_task["copilot"]
    assert (copilot.tasks, copilot.successful_tasks, copilot.calls) == (3, 2, 4)
    assert copilot.failed_calls == 1
    assert copilot.cost == Decimal("0.010")
    assert copilot.cost_per_task == Decimal("0.00333333")
    assert copilot.cost_per_successful_task == Decimal("0.005")
    assert by_task["explain"].cost_per_successful_task == Decimal("0.010")


def test_no_success_means_no_cost_per_success() -> None:
    (line,) = summarize([record("q1", "0.5", task_ok=False)])

    assert line.cost_per_task == Decimal("0.5")
    assert line.cost_per_successful_task is None


def test_summary_by_model_splits_the_costs() -> None:
    other = record("q1", "0.2").model_copy(update={"model": "anthropic:x", "call_id": "z"})

    lines = summarize([record("q1", "0.1"), other], by_model=True)

    assert [(line.model, line.cost) for line in lines] == [
        ("anthropic:x", Decimal("0.2")),
        ("openai:gpt-4o-mini", Decimal("0.1")),
    ]


async def test_meter_prices_every_call_of_a_task_and_stamps_its_outcome() -> None:
    down = FailingChatModel(label="openai:gpt-4o")
    mini = ScriptedChatModel(
        label="openai:gpt-4o-mini", script=[reply("ok", tokens=usage(2000, 500))]
    )
    models = TaskModels(
        "copilot", [ConfiguredModel(ModelRef.parse(m.label), m) for m in (down, mini)]
    )
    clock = iter([10.0, 10.5, 11.0, 12.5])
    meter = UsageMeter("copilot", "ask-1", LlmConfig().prices.price_for, clock=lambda: next(clock))
    sink = InMemoryUsageSink()

    await models.plain().ainvoke([HumanMessage("q")], config={"callbacks": [meter]})
    sink.record_usage(meter.finish(task_ok=True))
    sink.record_usage(meter.finish(task_ok=True))  # recorded twice: kept once

    failed, served = sink.records
    assert (failed.model, failed.call_ok, failed.cost, failed.input_tokens) == (
        "openai:gpt-4o",
        False,
        Decimal(0),
        0,
    )
    assert failed.latency_seconds == 0.5
    assert (served.model, served.input_tokens, served.output_tokens) == (
        "openai:gpt-4o-mini",
        2000,
        500,
    )
    assert served.cost == Decimal("0.0006")  # 2000 × 0.15/1e6 + 500 × 0.60/1e6
    assert served.latency_seconds == 1.5
    assert all(r.task_ok and r.task_id == "ask-1" and r.task == "copilot" for r in sink.records)
    assert meter.last_model() == "openai:gpt-4o-mini"


async def test_a_rejected_answer_marks_its_call_failed() -> None:
    model = ScriptedChatModel(label="ollama:llama3.1", script=[reply("a"), reply("b")])
    models = TaskModels("explain", [ConfiguredModel(ModelRef.parse(model.label), model)])
    meter = UsageMeter("explain", "e-1", LlmConfig().prices.price_for)
    await models.plain().ainvoke([HumanMessage("q")], config={"callbacks": [meter]})
    await models.plain().ainvoke([HumanMessage("q")], config={"callbacks": [meter]})

    meter.reject_last("ollama:llama3.1", "malformed")

    assert [(r.call_ok, r.error) for r in meter.records] == [(True, ""), (False, "malformed")]
    assert all(r.cost == Decimal(0) for r in meter.records)  # local models cost nothing
