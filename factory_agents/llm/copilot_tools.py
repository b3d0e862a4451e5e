"""The copilot's read-only tools (and, in a drafting session, `draft_proposal`): strict argument
schemas, each call executed over a `PlantReader` or refused with a clear message, and the facts
each result holds for citation."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import fmean
from typing import Any, Literal, get_args

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from factory_agents.actions import Action, SetpointChange
from factory_agents.errors import FactoryAgentsError, GuardrailViolation
from factory_agents.llm.copilot_contract import (
    DETERMINISTIC,
    DraftOutcome,
    DraftProposal,
    DraftSink,
    PlantReader,
    ToolCallRecord,
)
from factory_agents.llm.errors import DraftRefused, ToolCallRefused
from factory_agents.llm.explain import fmt
from factory_agents.llm.safety import AllowList, fence, neutralise
from factory_agents.plant import Quality
from factory_agents.policy import Policy

MAX_ROWS = 50
"""Most records one tool call returns (newest first)."""

# ---------------------------------------------------------------- tool argument schemas


class _Args(BaseModel):
    """Tool arguments: strict, unknown fields refused."""

    model_config = ConfigDict(extra="forbid")


class ReadTagsArgs(_Args):
    """Read the current values of tags (OPC UA NodeIds such as ns=2;s=Line1.GoodCount)."""

    tags: list[str] = Field(min_length=1, max_length=20)


class TagHistoryArgs(_Args):
    """Summarise one tag's values over the last minutes: count, min, max, mean, last values."""

    tag: str
    minutes: float = Field(60.0, gt=0, le=10080)


class LineKpisArgs(_Args):
    """The line's availability, quality ratio and scrap ratio over the last hours."""

    hours: float = Field(8.0, gt=0, le=168)


class ListProposalsArgs(_Args):
    """Proposals of the agents, newest first, by status (pending ones wait for approval)."""

    status: Literal[
        "pending", "approved", "rejected", "executed", "failed", "verified", "expired", "all"
    ] = "pending"
    limit: int = Field(10, ge=1, le=MAX_ROWS)


class SavingsArgs(_Args):
    """Estimated and realized savings per agent (optionally one agent), never added together."""

    agent: str | None = None


class DispatchListArgs(_Args):
    """The operations planned on the line for the next hours (and those running now)."""

    hours_ahead: float = Field(24.0, gt=0, le=336)


class QualityResultsArgs(_Args):
    """Quality results of the last hours, optionally of one characteristic (e.g. fill weight)."""

    hours: float = Field(24.0, gt=0, le=720)
    characteristic: str | None = None


class DowntimeArgs(_Args):
    """The line's stops over the last hours, with reasons and durations."""

    hours: float = Field(24.0, gt=0, le=720)


_ACTION_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["kind"].default: model for model in get_args(get_args(Action)[0])
}
"""Each action kind's model, from the closed Action union."""


class DraftProposalArgs(_Args):
    """Draft one action for an engineer to approve; it is recorded as pending, never executed."""

    title: str = Field(min_length=1, max_length=200)
    rationale: str = Field(min_length=1, max_length=2000)
    action: Action

    @model_validator(mode="before")
    @classmethod
    def _action_fields_known(cls, data: Any) -> Any:
        """Refuse action fields the action's schema does not have (its models ignore them)."""
        action = data.get("action") if isinstance(data, dict) else None
        if isinstance(action, dict):
            model = _ACTION_MODELS.get(str(action.get("kind")))
            if model is not None:
                unknown = sorted(set(action) - set(model.model_fields))
                if unknown:
                    raise ValueError(
                        f"action fields {', '.join(unknown)} are not part of {action['kind']}"
                    )
        return data


# ---------------------------------------------------------------- tool results


class ToolResult(BaseModel):
    """What a tool returns: data for the model (JSON), sentences for people, citable facts."""

    data: Any
    lines: list[str]
    facts: dict[str, float] = Field(default_factory=dict)

    def content(self) -> str:
        """The JSON the model receives."""
        return json.dumps(self.data, default=str, ensure_ascii=False)


def _when(moment: datetime | None) -> str:
    return "unknown time" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _add_fact(facts: dict[str, float], key: str, value: float | Decimal | None) -> None:
    if value is not None and math.isfinite(float(value)):
        facts[key] = float(value)


class CopilotTools:
    """The copilot's tools over one reader, and its allow-list, fixed when built."""

    def __init__(
        self,
        reader: PlantReader,
        *,
        question: str = "",
        model: str = DETERMINISTIC,
        allow_drafts: bool = False,
        draft_sink: DraftSink | None = None,
        policy: Policy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.reader = reader
        self.question = question
        self.model = model
        self.draft_sink = draft_sink
        self.policy = policy or Policy()
        self.drafts: list[DraftOutcome] = []
        self._clock = clock or reader.now
        specs: list[tuple[str, type[_Args], Callable[..., Awaitable[ToolResult]]]] = [
            ("read_tags", ReadTagsArgs, self._read_tags),
            ("tag_history", TagHistoryArgs, self._tag_history),
            ("line_kpis", LineKpisArgs, self._line_kpis),
            ("list_proposals", ListProposalsArgs, self._list_proposals),
            ("savings", SavingsArgs, self._savings),
            ("dispatch_list", DispatchListArgs, self._dispatch_list),
            ("quality_results", QualityResultsArgs, self._quality_results),
            ("downtime", DowntimeArgs, self._downtime),
        ]
        if allow_drafts:
            specs.append(("draft_proposal", DraftProposalArgs, self._draft_proposal))
        self._schemas = {name: schema for name, schema, _run in specs}
        self.tools: tuple[BaseTool, ...] = tuple(
            _structured_tool(name, schema, run) for name, schema, run in specs
        )
        self.allow_list = AllowList(tool.name for tool in self.tools)
        self._by_name = {tool.name: tool for tool in self.tools}

    async def execute(self, call: ToolCall) -> tuple[ToolMessage, ToolCallRecord]:
        """Run one tool call if allowed and well-formed; else refuse it without running it."""
        call_id = call.get("id") or f"call_{uuid.uuid4().hex[:12]}"
        name, args = call["name"], call["args"]
        try:
            self.allow_list.check(name)
            schema = self._schemas[name]
            try:
                schema.model_validate(args)
            except ValidationError as err:
                raise ToolCallRefused(
                    f"arguments of {name} do not fit its schema ({_errors(err)}); the call was"
                    " refused and nothing was executed. Call it again with valid arguments."
                ) from err
        except ToolCallRefused as err:
            return _refused(call_id, name, args, str(err))
        tool = self._by_name[name]
        try:
            message = await tool.ainvoke(
                ToolCall(name=name, args=args, id=call_id, type="tool_call")
            )
        except (FactoryAgentsError, ValueError) as err:
            text = f"{name} failed: {err}"
            record = ToolCallRecord(
                call_id=call_id, name=name, args=args, status="failed", message=text
            )
            return ToolMessage(content=text, tool_call_id=call_id, status="error"), record
        result = message.artifact
        assert isinstance(result, ToolResult)
        status: Literal["executed", "refused"] = "executed"
        if name == "draft_proposal" and self.drafts and self.drafts[-1].status == "refused":
            status = "refused"
        record = ToolCallRecord(
            call_id=call_id,
            name=name,
            args=args,
            status=status,
            message=" ".join(result.lines),
            facts=result.facts,
        )
        return message, record

    def refuse_invalid(
        self, name: str, raw_args: str, error: str, call_id: str
    ) -> tuple[ToolMessage, ToolCallRecord]:
        """Refuse a call whose arguments were not valid JSON (an invalid tool call)."""
        reason = (
            f"arguments of {neutralise(name, limit=80)!r} are not valid JSON"
            f" ({neutralise(error, limit=200)}); the call was refused and nothing was executed"
        )
        return _refused(call_id, name, raw_args, reason)

    # ------------------------------------------------------------ the read-only tools

    async def _read_tags(self, tags: list[str]) -> ToolResult:
        readings = await self.reader.read_tags(tags)
        data: list[Any] = []
        lines: list[str] = []
        facts: dict[str, float] = {}
        for reading in readings:
            entry: dict[str, Any] = {
                "tag": reading.tag,
                "quality": str(reading.quality),
                "time": _when(reading.source_time),
            }
            if reading.text is not None:
                entry["text"] = fence(f"OPC UA string value of {reading.tag}", reading.text)
                lines.append(
                    f"{reading.tag} reads the text “{neutralise(reading.text, limit=300)}”"
                    f" (plant text, shown as data; quality {reading.quality},"
                    f" {_when(reading.source_time)})."
                )
            elif reading.value is not None and reading.quality is not Quality.BAD:
                entry["value"], entry["unit"] = reading.value, reading.unit
                _add_fact(facts, reading.tag, reading.value)
                lines.append(
                    f"{reading.tag} = {fmt(reading.value)} {reading.unit}".rstrip()
                    + f" (quality {reading.quality}, {_when(reading.source_time)})."
                )
            else:
                entry["value"] = None
                lines.append(f"{reading.tag} has no usable value (quality {reading.quality}).")
            data.append(entry)
        return ToolResult(data=data, lines=lines, facts=facts)

    async def _tag_history(self, tag: str, minutes: float = 60.0) -> ToolResult:
        end = self._clock()
        samples = await self.reader.tag_history(tag, end - timedelta(minutes=minutes), end)
        good = [s.value for s in samples if s.quality is Quality.GOOD and math.isfinite(s.value)]
        if not good:
            text = f"{tag} has no good values in the last {fmt(minutes)} minutes."
            return ToolResult(data={"tag": tag, "count": 0}, lines=[text])
        facts: dict[str, float] = {}
        summary = {
            "count": float(len(good)),
            "min": min(good),
            "max": max(good),
            "mean": fmean(good),
            "first": good[0],
            "last": good[-1],
        }
        for key, value in summary.items():
            _add_fact(facts, f"{tag}.{key}", value)
        _add_fact(facts, f"{tag}.minutes", minutes)
        recent = good[-10:]
        data = {"tag": tag, "minutes": minutes, **summary, "recent_values": recent}
        line = (
            f"{tag} over the last {fmt(minutes)} minutes: {len(good)} good values, min"
            f" {fmt(summary['min'])}, max {fmt(summary['max'])}, mean {fmt(summary['mean'])},"
            f" last {fmt(summary['last'])}."
        )
        return ToolResult(data=data, lines=[line], facts=facts)

    async def _line_kpis(self, hours: float = 8.0) -> ToolResult:
        end = self._clock()
        kpis = await self.reader.line_kpis(end - timedelta(hours=hours), end)
        facts: dict[str, float] = {}
        for key in (
            "good",
            "scrap",
            "rework",
            "availability",
            "quality_ratio",
            "scrap_ratio",
            "planned_downtime_minutes",
            "unplanned_downtime_minutes",
            "stops",
        ):
            _add_fact(facts, f"kpi.{key}", getattr(kpis, key))
        _add_fact(facts, "kpi.hours", hours)

        def pct(value: float | None) -> str:
            return "undefined" if value is None else f"{fmt(round(value * 100, 2))} %"

        line = (
            f"{kpis.line} over the last {fmt(hours)} h: availability {pct(kpis.availability)},"
            f" quality ratio {pct(kpis.quality_ratio)}, scrap ratio {pct(kpis.scrap_ratio)};"
            f" {fmt(kpis.good)} good, {fmt(kpis.scrap)} scrap ({kpis.counts_from});"
            f" {kpis.stops} stop(s), {fmt(kpis.unplanned_downtime_minutes)} min unplanned and"
            f" {fmt(kpis.planned_downtime_minutes)} min planned downtime."
        )
        return ToolResult(data=kpis.model_dump(mode="json"), lines=[line], facts=facts)

    async def _list_proposals(self, status: str = "pending", limit: int = 10) -> ToolResult:
        views = await self.reader.proposals(None if status == "all" else status, limit)
        data: list[Any] = []
        lines: list[str] = []
        facts: dict[str, float] = {}
        _add_fact(facts, "proposals.count", len(views))
        for view in views:
            saving = view.proposal.estimated_saving
            data.append(
                {
                    "id": view.id,
                    "agent": view.agent,
                    "status": view.status,
                    "title": fence(f"title of proposal {view.id}", view.title),
                    "action": view.proposal.action.describe(),
                    "estimated_saving": str(view.estimated_amount),
                    "currency": view.currency,
                    "horizon_hours": saving.horizon_hours,
                    "realized_saving": (
                        None if view.realized_amount is None else str(view.realized_amount)
                    ),
                    "expires_at": _when(view.expires_at),
                }
            )
            _add_fact(facts, f"proposal[{view.id}].estimated_saving", view.estimated_amount)
            _add_fact(facts, f"proposal[{view.id}].horizon_hours", saving.horizon_hours)
            _add_fact(facts, f"proposal[{view.id}].realized_saving", view.realized_amount)
            lines.append(
                f"{view.id} ({view.agent}, {view.status}): {neutralise(view.title, limit=200)};"
                f" estimated saving {view.estimated_amount} {view.currency} over"
                f" {fmt(saving.horizon_hours)} h."
            )
        if not views:
            lines.append(f"No {'' if status == 'all' else status + ' '}proposals.")
        elif status != "all":
            lines.insert(0, f"{len(views)} {status} proposal(s):")
        return ToolResult(
            data={"status": status, "count": len(views), "proposals": data},
            lines=lines,
            facts=facts,
        )

    async def _savings(self, agent: str | None = None) -> ToolResult:
        totals = [t for t in await self.reader.savings() if agent is None or t.agent == agent]
        data: list[Any] = []
        lines: list[str] = []
        facts: dict[str, float] = {}
        for total in totals:
            data.append(total.model_dump(mode="json"))
            key = f"savings[{total.agent},{total.currency}]"
            _add_fact(facts, f"{key}.estimated_total", total.estimated_total)
            _add_fact(facts, f"{key}.realized_total", total.realized_total)
            _add_fact(facts, f"{key}.proposals", total.proposals)
            _add_fact(facts, f"{key}.verified", total.verified)
            lines.append(
                f"{total.agent}: estimated {total.estimated_total} {total.currency} over"
                f" {total.proposals} proposal(s); realized {total.realized_total}"
                f" {total.currency} measured on {total.verified} verified proposal(s)"
                " (estimated and realized are never added)."
            )
        if not totals:
            lines.append(
                f"No savings recorded{' for ' + neutralise(agent, limit=60) if agent else ''}."
            )
        return ToolResult(data={"agents": data}, lines=lines, facts=facts)

    async def _dispatch_list(self, hours_ahead: float = 24.0) -> ToolResult:
        now = self._clock()
        operations = await self.reader.dispatch_list(now, now + timedelta(hours=hours_ahead))
        operations = operations[:MAX_ROWS]
        data: list[Any] = []
        lines: list[str] = []
        facts: dict[str, float] = {}
        _add_fact(facts, "dispatch.operations", len(operations))
        _add_fact(facts, "dispatch.hours_ahead", hours_ahead)
        for op in operations:
            data.append(op.model_dump(mode="json"))
            key = f"dispatch[{op.work_order_id}/{op.sequence}]"
            _add_fact(facts, f"{key}.quantity", op.quantity)
            _add_fact(facts, f"{key}.sequence", op.sequence)
            lines.append(
                f"{op.work_order_id} op {op.sequence} ({op.product_id}, {op.quantity} units) on"
                f" {op.equipment_id}: {_when(op.planned_start)} to {_when(op.planned_end)},"
                f" {op.status}."
            )
        if not operations:
            lines.append(f"Nothing is planned in the next {fmt(hours_ahead)} h.")
        return ToolResult(
            data={"operations": len(operations), "items": data}, lines=lines, facts=facts
        )

    async def _quality_results(
        self, hours: float = 24.0, characteristic: str | None = None
    ) -> ToolResult:
        end = self._clock()
        results = await self.reader.quality_results(end - timedelta(hours=hours), end)
        if characteristic:
            wanted = characteristic.strip().lower()
            results = [r for r in results if r.characteristic.lower() == wanted]
        results = sorted(results, key=lambda r: r.sampled_at, reverse=True)[:MAX_ROWS]
        data: list[Any] = []
        facts: dict[str, float] = {}
        failed = sum(not r.passed for r in results)
        _add_fact(facts, "quality_results.count", len(results))
        _add_fact(facts, "quality_results.hours", hours)
        _add_fact(facts, "quality_results.failed", failed)
        for r in results:
            entry: dict[str, Any] = {
                "id": r.id,
                "work_order": r.work_order_id,
                "equipment": r.equipment_id,
                "characteristic": r.characteristic,
                "value": r.value,
                "unit": r.unit,
                "lsl": r.lsl,
                "usl": r.usl,
                "passed": r.passed,
                "sampled_at": _when(r.sampled_at),
            }
            if r.comment.strip():
                entry["comment"] = fence(f"MES comment on quality result {r.id}", r.comment)
            data.append(entry)
            _add_fact(facts, f"quality_result[{r.id}].value", r.value)
        line = (
            f"{len(results)} quality result(s) in the last {fmt(hours)} h"
            f"{' for ' + neutralise(characteristic, limit=60) if characteristic else ''},"
            f" {failed} outside their limits."
        )
        summary = {"count": len(results), "outside_limits": failed, "hours": hours}
        return ToolResult(data={**summary, "results": data}, lines=[line], facts=facts)

    async def _downtime(self, hours: float = 24.0) -> ToolResult:
        end = self._clock()
        start = end - timedelta(hours=hours)
        events = await self.reader.downtime(start, end)
        data: list[Any] = []
        lines: list[str] = []
        facts: dict[str, float] = {}
        total = {True: 0.0, False: 0.0}
        for event in sorted(events, key=lambda e: e.started_at, reverse=True)[:MAX_ROWS]:
            stop_end = min(event.ended_at or end, end)
            minutes = max((stop_end - max(event.started_at, start)).total_seconds() / 60, 0.0)
            total[event.planned] += minutes
            data.append(
                {
                    "id": event.id,
                    "equipment": event.equipment_id,
                    "reason_code": event.reason_code,
                    "reason": fence(f"MES stop reason {event.id}", event.reason),
                    "planned": event.planned,
                    "started_at": _when(event.started_at),
                    "ended_at": _when(event.ended_at) if event.ended_at else "still stopped",
                    "minutes_in_window": round(minutes, 1),
                }
            )
            _add_fact(facts, f"stop[{event.id}].minutes", round(minutes, 1))
        _add_fact(facts, "downtime.stops", len(events))
        _add_fact(facts, "downtime.hours", hours)
        _add_fact(facts, "downtime.unplanned_minutes", round(total[False], 1))
        _add_fact(facts, "downtime.planned_minutes", round(total[True], 1))
        lines.append(
            f"{len(events)} stop(s) in the last {fmt(hours)} h: {fmt(round(total[False], 1))} min"
            f" unplanned, {fmt(round(total[True], 1))} min planned."
        )
        summary = {
            "stops": len(events),
            "unplanned_minutes": round(total[False], 1),
            "planned_minutes": round(total[True], 1),
            "hours": hours,
        }
        return ToolResult(data={**summary, "items": data}, lines=lines, facts=facts)

    async def _draft_proposal(self, title: str, rationale: str, action: Action) -> ToolResult:
        try:
            proposal_id = await self._submit(title, rationale, action)
        except DraftRefused as err:
            self.drafts.append(
                DraftOutcome(status="refused", action=action.describe(), reason=str(err))
            )
            return ToolResult(data={"status": "refused", "reason": str(err)}, lines=[str(err)])
        text = (
            f"Recorded as pending proposal {proposal_id}: {action.describe()}. It needs an"
            " engineer's approval; nothing has been changed in the plant."
        )
        self.drafts.append(
            DraftOutcome(
                status="recorded", proposal_id=proposal_id, action=action.describe(), reason=text
            )
        )
        return ToolResult(
            data={"status": "pending approval", "proposal_id": proposal_id}, lines=[text]
        )

    async def _submit(self, title: str, rationale: str, action: Action) -> str:
        """Check a drafted action against the guardrails and the live value; hand it on."""
        if self.draft_sink is None:
            raise DraftRefused(
                "drafting is not available here (no draft path is configured); nothing was"
                " recorded. Agents' proposals are on the Approvals page."
            )
        try:
            self.policy.check_action(action)
        except GuardrailViolation as err:
            raise DraftRefused(f"the draft breaks the guardrails: {err}") from err
        if isinstance(action, SetpointChange):
            (live,) = await self.reader.read_tags([action.node_id])
            if live.value is None or live.quality is not Quality.GOOD:
                raise DraftRefused(
                    f"the live value of {action.node_id} cannot be read as Good; nothing was"
                    " recorded. Draft again when the tag reads Good."
                )
            if abs(live.value - action.from_value) > 1e-6 * max(1.0, abs(live.value)):
                raise DraftRefused(
                    f"from_value {fmt(action.from_value)} is not the live value"
                    f" {fmt(live.value)} of {action.node_id}; nothing was recorded. Draft"
                    " again from the live value."
                )
        draft = DraftProposal(
            draft_id=f"copilot-{uuid.uuid4().hex[:12]}",
            action=action,
            title=title,
            rationale=rationale,
            question=self.question,
            model=self.model,
            created_at=datetime.now(UTC),
        )
        return await self.draft_sink.submit(draft)


def _structured_tool(
    name: str, schema: type[_Args], run: Callable[..., Awaitable[ToolResult]]
) -> StructuredTool:
    """A langchain tool over `run`: the result's JSON as content, the result as artifact."""

    async def coroutine(**kwargs: Any) -> tuple[str, ToolResult]:
        result = await run(**kwargs)
        return result.content(), result

    return StructuredTool.from_function(
        coroutine=coroutine,
        name=name,
        description=(schema.__doc__ or name).strip(),
        args_schema=schema,
        response_format="content_and_artifact",
    )


def _errors(err: ValidationError) -> str:
    """A validation error in one line: each field and what was wrong with it."""
    parts = []
    for error in err.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return neutralise("; ".join(parts), limit=400)


def _refused(
    call_id: str, name: str, args: dict[str, Any] | str, reason: str
) -> tuple[ToolMessage, ToolCallRecord]:
    record = ToolCallRecord(
        call_id=call_id,
        name=neutralise(name, limit=80),
        args=args if isinstance(args, dict) else neutralise(args, limit=400),
        status="refused",
        message=reason,
    )
    return ToolMessage(content=reason, tool_call_id=call_id, status="error"), record
