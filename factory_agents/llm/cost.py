"""What model calls cost: tokens from usage metadata, price × tokens in Decimal, per task.

A `UsageMeter` is a langchain callback handler: attached to one task (one explanation, one
question) it records every chat-model call made for it, fallbacks included, with the model
that served it, its tokens, cost, latency and whether it succeeded. When the task ends,
`finish(task_ok)` stamps the records with the task's outcome and hands them to a
`UsageSink` (the ledger in production, `InMemoryUsageSink` in tests and evals).

Cost per task is all cost over all tasks; cost per successful task is all cost (failed
tasks included: they were paid for) over the tasks that succeeded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from pydantic import BaseModel, ConfigDict, Field

from factory_agents.llm.config import ModelPrice, TaskKind

MODEL_METADATA_KEY = "factory_llm_model"
"""Runnable metadata key naming the configured model (`provider:model`) behind a call."""
UNKNOWN_MODEL = "unknown"
_MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.00000001")
"""Costs are kept to 1e-8 of the currency unit."""
_UNPRICED = ModelPrice(input_per_million=Decimal(0), output_per_million=Decimal(0))


class TokenUsage(BaseModel):
    """Input and output tokens of one call; `reported` is False when the provider gave none."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    reported: bool = True


def usage_of(message: BaseMessage) -> TokenUsage:
    """The token usage an AIMessage carries in its usage_metadata (zero, unreported, if none)."""
    metadata = message.usage_metadata if isinstance(message, AIMessage) else None
    if metadata is None:
        return TokenUsage(reported=False)
    return TokenUsage(
        input_tokens=int(metadata.get("input_tokens", 0)),
        output_tokens=int(metadata.get("output_tokens", 0)),
    )


def cost_of(usage: TokenUsage, price: ModelPrice) -> Decimal:
    """Input tokens × input price + output tokens × output price, prices per million tokens."""
    total = (
        Decimal(usage.input_tokens) * price.input_per_million
        + Decimal(usage.output_tokens) * price.output_per_million
    ) / _MILLION
    return total.quantize(COST_QUANTUM)


def tidy(amount: Decimal) -> Decimal:
    """`amount` to the cost quantum, without trailing zeros (zero as 0)."""
    rounded = amount.quantize(COST_QUANTUM)
    return rounded.normalize() if rounded else Decimal(0)


class UsageRecord(BaseModel):
    """One model call made for one task: model, tokens, cost, latency and outcome."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    task_id: str
    task: TaskKind
    model: str
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    usage_reported: bool
    cost: Decimal
    currency: str
    latency_seconds: float = Field(ge=0)
    call_ok: bool
    task_ok: bool | None = None
    error: str = ""
    at: datetime


class UsageSink(Protocol):
    """Where usage records go once their task has ended (the ledger implements this)."""

    def record_usage(self, records: Sequence[UsageRecord]) -> None:
        """Store the records (idempotent on call_id)."""
        ...


class InMemoryUsageSink:
    """Usage records kept in a list, unique by call id (tests, evals, the CLI)."""

    def __init__(self) -> None:
        self._records: dict[str, UsageRecord] = {}

    def record_usage(self, records: Sequence[UsageRecord]) -> None:
        """Keep the records; a record with a known call id replaces the earlier one."""
        for record in records:
            self._records[record.call_id] = record

    @property
    def records(self) -> list[UsageRecord]:
        """Every record kept, in arrival order."""
        return list(self._records.values())


class CostSummary(BaseModel):
    """Calls, tokens and cost of one task type (and model, or '*') in one currency."""

    model_config = ConfigDict(frozen=True)

    task: str
    model: str
    currency: str
    tasks: int
    successful_tasks: int
    calls: int
    failed_calls: int
    input_tokens: int
    output_tokens: int
    cost: Decimal
    cost_per_task: Decimal | None
    cost_per_successful_task: Decimal | None
    mean_latency_seconds: float | None


def summarize(records: Iterable[UsageRecord], *, by_model: bool = False) -> list[CostSummary]:
    """Per task type (and model when `by_model`) and currency: cost per task and per success."""
    groups: dict[tuple[str, str, str], list[UsageRecord]] = {}
    for record in records:
        key = (record.task, record.model if by_model else "*", record.currency)
        groups.setdefault(key, []).append(record)
    summaries = []
    for (task, model, currency), group in sorted(groups.items()):
        outcomes: dict[str, bool] = {}
        for record in group:
            outcomes[record.task_id] = outcomes.get(record.task_id, False) or bool(record.task_ok)
        tasks, successes = len(outcomes), sum(outcomes.values())
        cost = tidy(sum((r.cost for r in group), Decimal(0)))
        latencies = [r.latency_seconds for r in group]
        summaries.append(
            CostSummary(
                task=task,
                model=model,
                currency=currency,
                tasks=tasks,
                successful_tasks=successes,
                calls=len(group),
                failed_calls=sum(not r.call_ok for r in group),
                input_tokens=sum(r.input_tokens for r in group),
                output_tokens=sum(r.output_tokens for r in group),
                cost=cost,
                cost_per_task=tidy(cost / tasks) if tasks else None,
                cost_per_successful_task=tidy(cost / successes) if successes else None,
                mean_latency_seconds=sum(latencies) / len(latencies) if latencies else None,
            )
        )
    return summaries


class _Pending:
    """A call that started and has not ended yet."""

    def __init__(self, model: str, started: float) -> None:
        self.model = model
        self.started = started


class UsageMeter(BaseCallbackHandler):
    """Records every chat-model call of one task (pass it in the runnable config's callbacks).

    Example::

        meter = UsageMeter("explain", "prop-1", config.prices.price_for)
        await runnable.ainvoke(messages, config={"callbacks": [meter]})
        sink.record_usage(meter.finish(task_ok=True))
    """

    run_inline = True  # called in the event loop's thread, in order, never from an executor
    raise_error = True  # a bug in accounting must not pass silently

    def __init__(
        self,
        task: TaskKind,
        task_id: str,
        price_for: Callable[[str], ModelPrice],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.task = task
        self.task_id = task_id
        self._price_for = price_for
        self._clock = clock
        self._pending: dict[UUID, _Pending] = {}
        self._records: list[UsageRecord] = []

    @property
    def records(self) -> list[UsageRecord]:
        """The calls recorded so far, in the order they ended."""
        return list(self._records)

    def last_model(self) -> str | None:
        """The model of the most recent call that succeeded (the one whose answer was used)."""
        for record in reversed(self._records):
            if record.call_ok:
                return record.model
        return None

    def reject_last(self, model: str, reason: str) -> None:
        """Mark `model`'s latest successful call as failed: its answer was unusable."""
        for index in range(len(self._records) - 1, -1, -1):
            record = self._records[index]
            if record.model == model and record.call_ok:
                self._records[index] = record.model_copy(update={"call_ok": False, "error": reason})
                return

    def finish(self, task_ok: bool) -> list[UsageRecord]:
        """The task's records, stamped with whether the task succeeded."""
        return [r.model_copy(update={"task_ok": task_ok}) for r in self._records]

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Remember when the call started and which configured model makes it."""
        model = str((metadata or {}).get(MODEL_METADATA_KEY, UNKNOWN_MODEL))
        self._pending[run_id] = _Pending(model, self._clock())

    def on_llm_end(
        self, response: LLMResult, *, run_id: UUID, parent_run_id: UUID | None = None, **kwargs: Any
    ) -> None:
        """Record a successful call with the tokens its message reports."""
        usage = TokenUsage(reported=False)
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration):
                    usage = usage_of(generation.message)
        self._record(run_id, usage, ok=True, error="")

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Record a failed call (no tokens are charged for it)."""
        self._record(run_id, TokenUsage(reported=False), ok=False, error=_one_line(error))

    def _record(self, run_id: UUID, usage: TokenUsage, *, ok: bool, error: str) -> None:
        pending = self._pending.pop(run_id, None)
        if pending is None:  # a plain (non-chat) LLM run: not one of ours
            return
        price = _UNPRICED if pending.model == UNKNOWN_MODEL else self._price_for(pending.model)
        self._records.append(
            UsageRecord(
                call_id=str(uuid.uuid4()),
                task_id=self.task_id,
                task=self.task,
                model=pending.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                usage_reported=usage.reported,
                cost=cost_of(usage, price),
                currency=price.currency,
                latency_seconds=max(self._clock() - pending.started, 0.0),
                call_ok=ok,
                error=error,
                at=datetime.now(UTC),
            )
        )


def untracked_meter(task: TaskKind) -> UsageMeter:
    """A meter that prices nothing: to know which model answered when usage is not kept."""
    return UsageMeter(task, f"untracked:{uuid.uuid4().hex[:8]}", lambda _label: _UNPRICED)


def _one_line(error: BaseException) -> str:
    """An exception as `Type: message`, on one line, at most 300 characters."""
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text[:300]
