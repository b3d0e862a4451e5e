"""OEE loss tree of one line over one period: where the planned busy time went, and why.

Advice only: the analysis names the largest loss and what drives it; it proposes no action.

Time model (ISO 22400-2, work unit level; the period given is the planned operation time):

- Stops the MES flags as planned (cleaning, planned maintenance, ...) are planned downtime. They
  lie outside planned busy time: PBT = planned operation time − planned downtime, as in the
  ISO 22400 time model (and Nakajima's loading time = available time − planned downtime).
- Planned stops whose reason code is listed in `setup_reason_codes` (changeovers, if the plant
  wants them judged) are setup time AUST instead: ISO 22400 books setup inside busy time, so
  they count as an availability loss. By default no code is listed and the MES flag decides.
- Unplanned stops are actual unit down time ADOT, inside PBT.

PBT splits without remainder into

    PBT = (ADOT + AUST)              availability loss, by stop reason
        + (APT − PRI × PQ)           performance (speed) loss: slow cycles, unrecorded short stops
        + PRI × (SQ + RQ)            quality loss: time spent making scrap and rework
        + PRI × GQ                   valuable operating time, = OEE index × PBT

The line is a series line: a stop of any of its equipment stops the line. Overlapping stops
count once in the tree (their union) and each under its own reason in the Pareto; the overlap
is reported. Stops reaching outside the period are clipped to it; a stop still open (no end)
runs to the end of the period, counts as a failure, and has no time to restoration yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from factory_agents import kpi
from factory_agents.catalog.losses.intervals import Interval, merge, minus, total_length

StopCategory = Literal["unplanned downtime", "setup", "planned downtime"]
LossCategory = Literal["availability", "performance", "quality"]


@dataclass(frozen=True)
class Stop:
    """A stop of one piece of equipment as the MES records it (end None: still stopped)."""

    equipment: str
    start: datetime
    end: datetime | None
    reason_code: str
    reason: str
    planned: bool

    def __post_init__(self) -> None:
        _aware(self.start, "stop start")
        if self.end is not None:
            _aware(self.end, "stop end")
            if self.end < self.start:
                raise ValueError(
                    f"stop {self.reason_code} on {self.equipment} ends ({self.end:%Y-%m-%d %H:%M})"
                    f" before it starts ({self.start:%Y-%m-%d %H:%M}); fix the downtime record"
                )


@dataclass(frozen=True)
class LinePeriod:
    """One line over one period of planned operation: counts, PRI and its equipment's stops."""

    line: str
    start: datetime
    end: datetime
    pri_seconds: float
    produced: float
    scrap: float = 0.0
    rework: float = 0.0
    stops: tuple[Stop, ...] = ()
    energy_kwh: float | None = None
    setup_reason_codes: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        _aware(self.start, "period start")
        _aware(self.end, "period end")
        if not self.end > self.start:
            raise ValueError(
                f"the period of {self.line} must end after it starts;"
                f" got {self.start} to {self.end}"
            )

    def category(self, stop: Stop) -> StopCategory:
        """Where a stop belongs in the time model."""
        if not stop.planned:
            return "unplanned downtime"
        return "setup" if stop.reason_code in self.setup_reason_codes else "planned downtime"


@dataclass(frozen=True)
class LossTree:
    """Planned busy time split into its losses and the valuable operating time (seconds)."""

    planned_operation_seconds: float
    planned_downtime_seconds: float
    pbt_seconds: float
    unplanned_downtime_seconds: float
    setup_seconds: float
    apt_seconds: float
    performance_loss_seconds: float
    scrap_loss_seconds: float
    rework_loss_seconds: float
    valuable_operating_seconds: float

    @property
    def availability_loss_seconds(self) -> float:
        """ADOT + AUST = PBT − APT."""
        return self.unplanned_downtime_seconds + self.setup_seconds

    @property
    def quality_loss_seconds(self) -> float:
        """PRI × (SQ + RQ)."""
        return self.scrap_loss_seconds + self.rework_loss_seconds

    def share_of_pbt(self, seconds: float) -> float | None:
        """A time as a fraction of planned busy time; None when PBT is zero."""
        return seconds / self.pbt_seconds if self.pbt_seconds > 0 else None


@dataclass(frozen=True)
class ReasonLoss:
    """The stops of one reason in the period: how many, how long, how often, how fast fixed."""

    reason_code: str
    reason: str
    category: StopCategory
    equipment: tuple[str, ...]
    stops: int
    ongoing: int
    seconds: float
    share_of_pbt: float | None
    mean_stop_seconds: float
    mtbf_hours: float | None
    mttr_minutes: float | None


@dataclass(frozen=True)
class LossDriver:
    """One of the three OEE losses, its size and a sentence on what drives it."""

    category: LossCategory
    seconds: float
    share_of_pbt: float | None
    explanation: str


@dataclass(frozen=True)
class OeeLossReport:
    """The loss tree, the ranked losses, the stop Paretos and a plain-language conclusion."""

    line: str
    start: datetime
    end: datetime
    kpis: kpi.LineKpis
    tree: LossTree
    losses: tuple[LossDriver, ...]
    largest: LossDriver | None
    pareto_by_time: tuple[ReasonLoss, ...]
    cumulative_time_shares: tuple[float, ...]
    pareto_by_count: tuple[ReasonLoss, ...]
    planned_downtime: tuple[ReasonLoss, ...]
    overlap_seconds: float
    notes: tuple[str, ...]
    conclusion: str


@dataclass(frozen=True)
class _ClippedStop:
    """A stop inside the period: its interval in seconds from the period start, and its loss."""

    stop: Stop
    category: StopCategory
    interval: Interval
    own_seconds: float
    ongoing: bool


def analyze_oee_losses(period: LinePeriod) -> OeeLossReport:
    """The OEE loss tree of a line over a period, its largest loss, drivers and conclusion."""
    pot = (period.end - period.start).total_seconds()
    clipped = _clip(period)
    planned = merge(c.interval for c in clipped if c.category == "planned downtime")
    setup = minus(merge(c.interval for c in clipped if c.category == "setup"), planned)
    lost = minus(merge(c.interval for c in clipped if c.category != "planned downtime"), planned)
    pdt, aust = total_length(planned), total_length(setup)
    adot = total_length(lost) - aust
    pbt = pot - pdt
    apt = pbt - adot - aust
    losing = [
        _ClippedStop(c.stop, c.category, c.interval, seconds, c.ongoing)
        for c in clipped
        if c.category != "planned downtime"
        and (seconds := total_length(minus([c.interval], planned))) > 0
    ]
    failures = [c for c in losing if c.category == "unplanned downtime"]
    elements = kpi.LineElements(
        line=period.line,
        start=period.start,
        end=period.end,
        pbt=pbt,
        apt=apt,
        pri=period.pri_seconds,
        pq=period.produced,
        sq=period.scrap,
        rq=period.rework,
        times_to_restoration=tuple(c.own_seconds for c in failures if not c.ongoing),
        failures=len(failures),
        energy_kwh=period.energy_kwh,
    )
    kpis = kpi.LineKpis.of(elements)
    pri = period.pri_seconds
    tree = LossTree(
        planned_operation_seconds=pot,
        planned_downtime_seconds=pdt,
        pbt_seconds=pbt,
        unplanned_downtime_seconds=adot,
        setup_seconds=aust,
        apt_seconds=apt,
        performance_loss_seconds=max(apt - pri * period.produced, 0.0),
        scrap_loss_seconds=pri * period.scrap,
        rework_loss_seconds=pri * period.rework,
        valuable_operating_seconds=pri * elements.gq,
    )
    reasons = _by_reason(losing, tree)
    by_time = tuple(sorted(reasons, key=lambda r: (-r.seconds, -r.stops, r.reason_code)))
    by_count = tuple(sorted(reasons, key=lambda r: (-r.stops, -r.seconds, r.reason_code)))
    total = sum(r.seconds for r in by_time)
    running = 0.0
    cumulative: list[float] = []
    for r in by_time:
        running += r.seconds
        cumulative.append(running / total if total > 0 else 0.0)
    planned_stops = [c for c in clipped if c.category == "planned downtime"]
    planned_reasons = _by_reason(planned_stops, tree)
    losses = _ranked_losses(period, tree, by_time, by_count)
    largest = losses[0] if losses and losses[0].seconds > 0 else None
    overlap = sum(c.own_seconds for c in losing) - (adot + aust)
    notes = _notes(period, clipped, overlap)
    return OeeLossReport(
        line=period.line,
        start=period.start,
        end=period.end,
        kpis=kpis,
        tree=tree,
        losses=losses,
        largest=largest,
        pareto_by_time=by_time,
        cumulative_time_shares=tuple(cumulative),
        pareto_by_count=by_count,
        planned_downtime=tuple(sorted(planned_reasons, key=lambda r: (-r.seconds, r.reason_code))),
        overlap_seconds=overlap,
        notes=notes,
        conclusion=_conclusion(period, kpis, tree, largest),
    )


def _clip(period: LinePeriod) -> list[_ClippedStop]:
    """The stops that reach into the period, clipped to it, in seconds from its start."""
    pot = (period.end - period.start).total_seconds()
    out: list[_ClippedStop] = []
    for stop in sorted(period.stops, key=lambda s: (s.start, s.reason_code, s.equipment)):
        end = period.end if stop.end is None else stop.end
        a = max((stop.start - period.start).total_seconds(), 0.0)
        b = min((end - period.start).total_seconds(), pot)
        if b <= a:
            continue
        ongoing = stop.end is None or stop.end > period.end
        out.append(_ClippedStop(stop, period.category(stop), (a, b), b - a, ongoing))
    return out


def _by_reason(stops: Sequence[_ClippedStop], tree: LossTree) -> list[ReasonLoss]:
    """One row per reason code: count, time, MTBF over APT and MTTR of completed stops."""
    groups: dict[str, list[_ClippedStop]] = {}
    for c in stops:
        groups.setdefault(c.stop.reason_code, []).append(c)
    rows: list[ReasonLoss] = []
    for code, group in groups.items():
        seconds = sum(c.own_seconds for c in group)
        category = group[0].category
        is_failure = category == "unplanned downtime"
        mtbf_seconds = kpi.mtbf(tree.apt_seconds, len(group)) if is_failure else None
        mttr_seconds = kpi.mttr([c.own_seconds for c in group if not c.ongoing])
        rows.append(
            ReasonLoss(
                reason_code=code,
                reason=group[0].stop.reason,
                category=category,
                equipment=tuple(sorted({c.stop.equipment for c in group})),
                stops=len(group),
                ongoing=sum(c.ongoing for c in group),
                seconds=seconds,
                share_of_pbt=tree.share_of_pbt(seconds),
                mean_stop_seconds=seconds / len(group),
                mtbf_hours=None if mtbf_seconds is None else mtbf_seconds / 3600,
                mttr_minutes=None if mttr_seconds is None or not is_failure else mttr_seconds / 60,
            )
        )
    return rows


def _ranked_losses(
    period: LinePeriod,
    tree: LossTree,
    by_time: Sequence[ReasonLoss],
    by_count: Sequence[ReasonLoss],
) -> tuple[LossDriver, ...]:
    """The three losses, largest first (ties: availability, performance, quality)."""
    drivers = [
        LossDriver(
            "availability",
            tree.availability_loss_seconds,
            tree.share_of_pbt(tree.availability_loss_seconds),
            _availability_driver(tree, by_time, by_count),
        ),
        LossDriver(
            "performance",
            tree.performance_loss_seconds,
            tree.share_of_pbt(tree.performance_loss_seconds),
            _performance_driver(period, tree),
        ),
        LossDriver(
            "quality",
            tree.quality_loss_seconds,
            tree.share_of_pbt(tree.quality_loss_seconds),
            _quality_driver(period),
        ),
    ]
    order = {"availability": 0, "performance": 1, "quality": 2}
    return tuple(sorted(drivers, key=lambda d: (-d.seconds, order[d.category])))


def _availability_driver(
    tree: LossTree, by_time: Sequence[ReasonLoss], by_count: Sequence[ReasonLoss]
) -> str:
    """The reason that took the most stop time, and the one that stopped the line most often."""
    if not by_time:
        return "no unplanned stop or setup was recorded in planned busy time"
    top = by_time[0]
    text = (
        f"{top.reason_code} ({top.reason}) took {_minutes(top.seconds)} over {top.stops}"
        f" stop{'s' if top.stops != 1 else ''}"
    )
    if top.mttr_minutes is not None and top.mtbf_hours is not None:
        text += (
            f", {top.mttr_minutes:.1f} min to restore on average, one every"
            f" {top.mtbf_hours:.1f} h of running"
        )
    frequent = by_count[0]
    if frequent.reason_code != top.reason_code and frequent.stops > top.stops:
        text += (
            f"; the most frequent is {frequent.reason_code} ({frequent.reason}),"
            f" {frequent.stops} stops for {_minutes(frequent.seconds)}"
        )
    return text


def _performance_driver(period: LinePeriod, tree: LossTree) -> str:
    """How many units the running time should have made and how many it did."""
    if tree.apt_seconds <= 0:
        return "the line did not run"
    planned_units = tree.apt_seconds / period.pri_seconds
    missing = planned_units - period.produced
    return (
        f"in {_minutes(tree.apt_seconds)} of running the line made {period.produced:,.0f} units"
        f" where its planned run time per item ({period.pri_seconds:g} s) allows"
        f" {planned_units:,.0f}: {missing:,.0f} units lost to slow cycles or short stops not"
        " recorded as downtime"
    )


def _quality_driver(period: LinePeriod) -> str:
    """Scrap and rework counts with the time each took."""
    if period.scrap + period.rework == 0:
        return "no scrap or rework was counted"
    return (
        f"{period.scrap:,.0f} units scrapped ({_minutes(period.pri_seconds * period.scrap)}) and"
        f" {period.rework:,.0f} reworked ({_minutes(period.pri_seconds * period.rework)})"
    )


def _notes(period: LinePeriod, clipped: Sequence[_ClippedStop], overlap: float) -> tuple[str, ...]:
    """What the reader should know about how the stops were counted."""
    notes: list[str] = []
    open_stops = [c for c in clipped if c.ongoing]
    if open_stops:
        codes = ", ".join(sorted({c.stop.reason_code for c in open_stops}))
        notes.append(
            f"{len(open_stops)} stop(s) ({codes}) were still open at the end of the period: counted"
            " up to its end, as failures, but without a time to restoration"
        )
    early = [c for c in clipped if c.stop.start < period.start]
    if early:
        notes.append(f"{len(early)} stop(s) began before the period: only their part in it counts")
    if overlap > 0:
        notes.append(
            f"stops overlapped for {_minutes(overlap)}: counted once in the loss tree and under"
            " each reason in the Pareto"
        )
    return tuple(notes)


def _conclusion(
    period: LinePeriod, kpis: kpi.LineKpis, tree: LossTree, largest: LossDriver | None
) -> str:
    """A short deterministic summary of the numbers."""
    when = f"{period.start:%Y-%m-%d %H:%M}–{period.end:%Y-%m-%d %H:%M} UTC"
    if tree.pbt_seconds <= 0:
        planned = _minutes(tree.planned_downtime_seconds)
        return (
            f"{period.line}, {when}: no planned busy time (all {planned} were planned"
            " downtime), so OEE is undefined."
        )
    head = (
        f"{period.line}, {when}: OEE {_percent(kpis.oee_index)} = availability"
        f" {_percent(kpis.availability)} × effectiveness {_percent(kpis.effectiveness)}"
        f" × quality ratio {_percent(kpis.quality_ratio)} over"
        f" {_minutes(tree.pbt_seconds)} of planned busy time."
    )
    if largest is None:
        return f"{head} No loss was recorded."
    return (
        f"{head} The largest loss is {largest.category}: {_minutes(largest.seconds)}"
        f" ({_percent(largest.share_of_pbt)} of planned busy time); {largest.explanation}."
    )


def _minutes(seconds: float) -> str:
    """Seconds as minutes for people, e.g. '72.5 min'."""
    return f"{seconds / 60:.1f} min"


def _percent(fraction: float | None) -> str:
    """A fraction as a percentage with one decimal, or 'undefined'."""
    return "undefined" if fraction is None else f"{100 * fraction:.1f} %"


def _aware(moment: datetime, what: str) -> None:
    """Refuse naive datetimes: MES times are compared across systems in UTC."""
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC); got a naive datetime {moment}")
