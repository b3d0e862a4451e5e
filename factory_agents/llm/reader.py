"""The copilot's PlantReader over the real platform: the ledger, a tag source and the MES.

`PlatformReader` reads numbers through any tag source shaped like `connectors.base.TagSource`
(the `OpcUaConnector`), text tags through a `TextTagSource` when one is given, MES records
through any source shaped like `connectors.base.MesSource` (the `SqlMes`), and proposals
and savings from the `Ledger`. It only ever calls read methods. The protocols are restated
here, structurally, so that the domain package does not import `connectors`.

KPIs: availability (ISO 22400: APT / PBT) from the MES stops of the line and its cells, and
quality and scrap ratios (GQ / PQ, SQ / PQ) from the MES production counts, or, where the
MES records none, from the growth of the line's good and scrap counters over the window.

`draft_to_proposal` turns a copilot draft into the proposal the platform admits like any
agent's (agent `copilot`, the draft as evidence, no estimated saving, no baseline).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from factory_agents import kpi, site
from factory_agents.agent import Baseline, EstimatedSaving, Proposal
from factory_agents.evidence import Table
from factory_agents.isa95 import DowntimeEvent, MesData, MesKind, QualityResult
from factory_agents.ledger.views import AgentTotals, ProposalView
from factory_agents.llm.copilot_contract import (
    DraftProposal,
    LineKpis,
    ScheduledOperation,
    TagInfo,
    TagReading,
)
from factory_agents.plant import Quality, Sample

if TYPE_CHECKING:
    from factory_agents.ledger.repository import Ledger

COPILOT_AGENT = "copilot"
"""The agent name copilot drafts are recorded under."""


class TagTextReading(BaseModel):
    """A text tag's value (an OPC UA String), with quality and source time."""

    model_config = ConfigDict(frozen=True)

    tag: str
    text: str | None
    quality: Quality
    source_time: datetime | None = None


@runtime_checkable
class NumberTagSource(Protocol):
    """Reads numeric tags now and over time (what `connectors.base.TagSource` offers)."""

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """One Sample per node id, in the same order."""
        ...

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """Raw values of one tag between start and end."""
        ...


@runtime_checkable
class TextTagSource(Protocol):
    """Reads text tags (OPC UA Strings): machine states, operator notes."""

    async def read_text(self, node_ids: Sequence[str]) -> list[TagTextReading]:
        """One reading per node id, in the same order."""
        ...


class MesRecordSource(Protocol):
    """Reads MES records (what `connectors.base.MesSource` offers)."""

    async def fetch(self, kinds: Sequence[MesKind], since: datetime, until: datetime) -> MesData:
        """The records of `kinds`; time-stamped ones in [since, until]."""
        ...


def site_catalog() -> list[TagInfo]:
    """The default site's tags: line counters, the filler's fill weight and setpoint, machines."""
    tags = [
        TagInfo(tag=site.LINE_GOOD, description="good units counted by the line"),
        TagInfo(tag=site.LINE_SCRAP, description="scrapped units counted by the line"),
        TagInfo(tag=site.FILL_WEIGHT, unit="g", description="weighed fill of the last bottle"),
        TagInfo(tag=site.FILL_SETPOINT, unit="g", description="filler fill-weight setpoint"),
    ]
    units = {"Speed": "units/min", "Temperature": "°C", "Energy": "kWh"}
    for machine in site.MACHINES:
        prefix = f"Line1.{machine}"
        tags.append(TagInfo(tag=site.node(f"{prefix}.State"), kind="text", description="state"))
        for name in ("Speed", "Temperature", "Energy", "GoodCount", "ScrapCount"):
            tags.append(TagInfo(tag=site.node(f"{prefix}.{name}"), unit=units.get(name, "")))
    return tags


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class PlatformReader:
    """The PlantReader over the ledger, a tag source, an optional text source and the MES."""

    def __init__(
        self,
        ledger: Ledger,
        tags: NumberTagSource,
        mes: MesRecordSource,
        *,
        texts: TextTagSource | None = None,
        catalog: Sequence[TagInfo] | None = None,
        line: str = site.LINE,
        counters: tuple[str, str] | None = (site.LINE_GOOD, site.LINE_SCRAP),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger = ledger
        self.tags = tags
        self.mes = mes
        self.texts = texts if texts is not None else _text_source_of(tags)
        self.catalog = list(catalog) if catalog is not None else site_catalog()
        self.line = line
        self.counters = counters
        self._clock = clock

    def now(self) -> datetime:
        """The current time (UTC)."""
        return self._clock()

    async def tag_catalog(self) -> list[TagInfo]:
        """The tags the copilot knows."""
        return list(self.catalog)

    async def read_tags(self, tags: Sequence[str]) -> list[TagReading]:
        """Numbers through the tag source, text tags through the text source, in order."""
        kinds = {info.tag: info for info in self.catalog}
        text_tags = [t for t in tags if t in kinds and kinds[t].kind == "text"]
        number_tags = [t for t in tags if t not in text_tags]
        readings: dict[str, TagReading] = {}
        if number_tags:
            for sample in await self.tags.read(number_tags):
                unit = kinds[sample.tag].unit if sample.tag in kinds else ""
                value = sample.value if math.isfinite(sample.value) else None
                readings[sample.tag] = TagReading(
                    tag=sample.tag,
                    value=value,
                    unit=unit,
                    quality=sample.quality,
                    source_time=sample.source_time,
                )
        if text_tags:
            if self.texts is None:
                for tag in text_tags:
                    readings[tag] = TagReading(tag=tag, quality=Quality.BAD)
            else:
                for text in await self.texts.read_text(text_tags):
                    readings[text.tag] = TagReading(
                        tag=text.tag,
                        text=text.text,
                        quality=text.quality,
                        source_time=text.source_time,
                    )
        return [readings[tag] for tag in tags]

    async def tag_history(self, tag: str, start: datetime, end: datetime) -> list[Sample]:
        """Raw values of one numeric tag between start and end."""
        return await self.tags.history(tag, start, end)

    async def line_kpis(self, start: datetime, end: datetime) -> LineKpis:
        """Availability from MES stops; quality from MES counts or the line's counters."""
        data = await self.mes.fetch(["downtime", "production_counts"], start, end)
        stops = [e for e in data.downtime if self._on_line(e.equipment_id)]
        counts = [c for c in data.production_counts if self._on_line(c.equipment_id)]
        line_counts = [c for c in counts if c.equipment_id == self.line] or counts
        if line_counts:
            good = float(sum(c.good for c in line_counts))
            scrap = float(sum(c.scrap for c in line_counts))
            rework = float(sum(c.rework for c in line_counts))
            source = "MES production counts"
        elif self.counters is not None:
            good = await self._growth(self.counters[0], start, end)
            scrap = await self._growth(self.counters[1], start, end)
            rework, source = 0.0, "OPC UA line counters"
        else:
            good = scrap = rework = 0.0
            source = "no counts"
        return line_kpis_from(self.line, start, end, stops, good, scrap, rework, source)

    async def proposals(self, status: str | None, limit: int) -> list[ProposalView]:
        """Proposals newest first, from the ledger."""
        return await asyncio.to_thread(self.ledger.list_proposals, status, limit)

    async def savings(self) -> list[AgentTotals]:
        """Estimated and realized savings per agent and currency, from the ledger."""
        return await asyncio.to_thread(self.ledger.savings_totals)

    async def dispatch_list(self, start: datetime, end: datetime) -> list[ScheduledOperation]:
        """Operations of open work orders on the line planned to overlap [start, end]."""
        data = await self.mes.fetch(["work_orders", "operations"], start, end)
        orders = {o.id: o for o in data.work_orders if o.line_id == self.line}
        operations = []
        for op in data.operations:
            order = orders.get(op.work_order_id)
            if order is None or op.planned_start is None or op.planned_end is None:
                continue
            if op.planned_end < start or op.planned_start > end or op.status == "completed":
                continue
            operations.append(
                ScheduledOperation(
                    work_order_id=op.work_order_id,
                    product_id=order.product_id,
                    quantity=order.quantity,
                    sequence=op.sequence,
                    equipment_id=op.equipment_id,
                    planned_start=op.planned_start,
                    planned_end=op.planned_end,
                    status=op.status,
                    due_at=order.due_at,
                )
            )
        return sorted(operations, key=lambda o: (o.planned_start or start, o.sequence))

    async def quality_results(self, start: datetime, end: datetime) -> list[QualityResult]:
        """Quality results of the line sampled in [start, end]."""
        data = await self.mes.fetch(["quality_results"], start, end)
        return [r for r in data.quality_results if self._on_line(r.equipment_id)]

    async def downtime(self, start: datetime, end: datetime) -> list[DowntimeEvent]:
        """Stops of the line and its cells overlapping [start, end]."""
        data = await self.mes.fetch(["downtime"], start, end)
        return [e for e in data.downtime if self._on_line(e.equipment_id)]

    def _on_line(self, equipment_id: str) -> bool:
        return equipment_id == self.line or equipment_id.startswith(f"{self.line}.")

    async def _growth(self, counter: str, start: datetime, end: datetime) -> float:
        """How much a counter grew over the window (Good samples only; 0 without two)."""
        samples = [
            s
            for s in await self.tags.history(counter, start, end)
            if s.quality is Quality.GOOD and math.isfinite(s.value)
        ]
        if len(samples) < 2:
            return 0.0
        return max(samples[-1].value - samples[0].value, 0.0)


def _text_source_of(tags: object) -> TextTagSource | None:
    """The tag source itself, when it reads text tags too."""
    return tags if isinstance(tags, TextTagSource) else None


Interval = tuple[float, float]


def _merge(intervals: Sequence[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _minus(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    result = list(intervals)
    for hole_start, hole_end in holes:
        cut: list[Interval] = []
        for start, end in result:
            if hole_end <= start or hole_start >= end:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        result = cut
    return result


def _length(intervals: Sequence[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def line_kpis_from(
    line: str,
    start: datetime,
    end: datetime,
    stops: Sequence[DowntimeEvent],
    good: float,
    scrap: float,
    rework: float,
    counts_from: str,
) -> LineKpis:
    """Availability = APT / PBT (planned stops outside PBT, unplanned ones inside, overlaps
    counted once) and GQ / PQ, SQ / PQ, with the ISO 22400 functions of `kpi`."""
    window = (end - start).total_seconds()

    def clipped(event: DowntimeEvent) -> Interval:
        stop_end = min(event.ended_at or end, end)
        return (
            max((event.started_at - start).total_seconds(), 0.0),
            max(min((stop_end - start).total_seconds(), window), 0.0),
        )

    planned = _merge([clipped(e) for e in stops if e.planned])
    unplanned = _minus(_merge([clipped(e) for e in stops if not e.planned]), planned)
    pbt = max(window - _length(planned), 0.0)
    apt = max(pbt - _length(unplanned), 0.0)
    produced = good + scrap + rework
    return LineKpis(
        line=line,
        start=start,
        end=end,
        good=good,
        scrap=scrap,
        rework=rework,
        availability=kpi.availability(apt, pbt),
        quality_ratio=kpi.quality_ratio(good, produced),
        scrap_ratio=kpi.scrap_ratio(scrap, produced),
        planned_downtime_minutes=round(_length(planned) / 60, 1),
        unplanned_downtime_minutes=round(_length(unplanned) / 60, 1),
        stops=len(stops),
        counts_from=counts_from,
    )


# ---------------------------------------------------------------- drafts become proposals


def draft_to_proposal(draft: DraftProposal, *, currency: str = "EUR") -> Proposal:
    """A pending-proposal body for a copilot draft: no estimated saving, no baseline measured."""
    action = draft.action
    return Proposal(
        proposal_id=draft.draft_id,
        agent=COPILOT_AGENT,
        line=site.LINE,
        title=draft.title,
        rationale=f"{draft.rationale} (drafted by the copilot with {draft.model} for the"
        f" question: {draft.question})",
        action=action,
        evidence=Table(
            title="Drafted by the copilot",
            columns=["field", "value"],
            rows=[
                ["action", action.describe()],
                ["model", draft.model],
                ["question", draft.question],
            ],
        ),
        estimated_saving=EstimatedSaving(
            amount=Decimal("0.00"),
            currency=currency,
            horizon_hours=1.0,
            formula="none: the copilot does not estimate savings",
            inputs={},
            assumptions=["drafted on request; an engineer judges its value"],
        ),
        baseline=Baseline(
            metric="none",
            value=0.0,
            units=0,
            start=draft.created_at,
            end=draft.created_at,
            method="no baseline: drafted by the copilot, nothing is measured after acting",
        ),
        counters=(),
        created_at=draft.created_at,
    )
