"""The control scheme that decides whether a characteristic drifted, and the chart that shows it.

Each scheme reports a *run*: how many of the latest points belong to its current signal,
all on one side of the center. The agent proposes only when the run reaches its
persistence requirement, and prices the shift over the run's points.

- ``ewma``: the points in a row, counted back from the latest, whose EWMA lies beyond the
  same (exact, time-varying) control limit.
- ``cusum``: the points in a row, counted back from the latest, whose upper sum C+ (or lower
  sum C-) exceeds the decision interval h * sigma. The sums start at zero at the start of
  the series, so their memory never reaches further back than the data looked at. If both
  sums are beyond h at the latest point (the process turned round), the side that crossed
  more recently decides: the other is the decaying memory of the earlier excursion.
- ``shewhart``: an individuals chart with the four Western Electric rules as its decision
  rule. Individual points do not stay beyond a limit, so the run is the excursion: from the
  first rule-completing point of the current excursion to the latest point. An excursion is
  a chain of points that complete a rule, all on the latest signal's side of the center,
  none more than 8 points (the longest Western Electric window) after the previous one;
  it is over once 8 points pass without a signal or a point on the other side completes one.

Whatever decides, the evidence chart shows the EWMA with its steady-state limits (the board
draws those), the Western Electric signals, and the deciding scheme's rule on its run points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from factory_agents.agent import ControlChart
from factory_agents.catalog.quality import spc
from factory_agents.plant import Sample

ChartName = Literal["ewma", "cusum", "shewhart"]
EXCURSION_GAP = 8  # points without a signal that end a Shewhart excursion: WE rule 4's window
EWMA_RULE = "EWMA beyond its control limit"


class ChartSettings(Protocol):
    """The parts of an agent's config that choose, tune and draw its control chart."""

    @property
    def chart(self) -> ChartName: ...
    @property
    def characteristic_name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def target(self) -> float: ...
    @property
    def lsl(self) -> float: ...
    @property
    def usl(self) -> float: ...
    @property
    def ewma_lambda(self) -> float: ...
    @property
    def ewma_width(self) -> float: ...
    @property
    def cusum_k(self) -> float: ...
    @property
    def cusum_h(self) -> float: ...
    @property
    def chart_points(self) -> int: ...


@dataclass(frozen=True)
class ChartVerdict:
    """What the deciding chart says about the latest points of a series."""

    run: int
    subject: str
    state: str
    marks: dict[int, list[str]] = field(default_factory=dict)

    def describe(self, characteristic: str) -> str:
        """The verdict as the start of a sentence, e.g. 'The EWMA of fill weight has been ...'."""
        return f"The {self.subject} of {characteristic} {self.state}"


def ewma_verdict(
    values: Sequence[float], center: float, sigma: float, lam: float, width: float
) -> ChartVerdict:
    """EWMA points in a row beyond the same exact control limit, counted from the latest."""
    smoothed = spc.ewma(values, center, lam)
    run, side = 0, 0
    for i in range(len(smoothed) - 1, -1, -1):
        deviation = smoothed[i] - center
        if abs(deviation) <= spc.ewma_half_width(i + 1, sigma, lam, width):
            break
        this_side = int(math.copysign(1, deviation))
        if side and this_side != side:
            break
        side, run = this_side, run + 1
    return _verdict(run, len(values), "EWMA", "has been beyond its control limit", EWMA_RULE)


def cusum_verdict(
    values: Sequence[float], center: float, sigma: float, k: float, h: float
) -> ChartVerdict:
    """Points in a row with C+ (or C-) beyond h * sigma; the later crossing wins if both are."""
    sums = spc.tabular_cusum(values, center, sigma, k)
    limit = h * sigma
    upper = trailing_count(sums.upper, limit)
    lower = trailing_count(sums.lower, limit)
    if upper and (not lower or upper <= lower):
        run, subject, sign = upper, "upper CUSUM", "+"
    else:
        run, subject, sign = lower, "lower CUSUM", "-"
    rule = f"CUSUM C{sign} beyond h = {h:g} sigma (k = {k:g} sigma)"
    return _verdict(run, len(values), subject, "has been beyond its decision interval", rule)


def shewhart_verdict(values: Sequence[float], center: float, sigma: float) -> ChartVerdict:
    """Individuals chart: the current same-side excursion of Western Electric signals."""
    hits = spc.western_electric(values, center, sigma)
    latest_first = sorted(hits, reverse=True)
    state = "has been signalling Western Electric rules"
    if not latest_first or len(values) - 1 - latest_first[0] >= EXCURSION_GAP:
        return ChartVerdict(0, "individuals chart", state)
    side = _side(values[latest_first[0]], center)
    first = latest_first[0]
    for i in latest_first[1:]:
        if _side(values[i], center) != side or first - i > EXCURSION_GAP:
            break
        first = i
    marks = {i: list(hits[i]) for i in range(first, len(values)) if i in hits}
    return ChartVerdict(len(values) - first, "individuals chart", state, marks)


def judge(settings: ChartSettings, values: Sequence[float], sigma: float) -> ChartVerdict:
    """The verdict of the configured control scheme on a series around the target."""
    s = settings
    if s.chart == "cusum":
        return cusum_verdict(values, s.target, sigma, s.cusum_k, s.cusum_h)
    if s.chart == "shewhart":
        return shewhart_verdict(values, s.target, sigma)
    return ewma_verdict(values, s.target, sigma, s.ewma_lambda, s.ewma_width)


def evidence(
    settings: ChartSettings, samples: Sequence[Sample], sigma: float, verdict: ChartVerdict
) -> ControlChart:
    """The latest points as a control chart: values, EWMA and its limits, rules that signalled."""
    s = settings
    values = [sample.value for sample in samples]
    n = min(s.chart_points, len(samples))
    half = spc.ewma_asymptotic_half_width(sigma, s.ewma_lambda, s.ewma_width)
    signals = spc.western_electric(values[-n:], s.target, sigma)
    return ControlChart(
        characteristic=s.characteristic_name,
        unit=s.unit,
        times=[sample.source_time for sample in samples[-n:]],
        values=values[-n:],
        ewma=spc.ewma(values, s.target, s.ewma_lambda)[-n:],
        center=s.target,
        sigma=sigma,
        ewma_lcl=s.target - half,
        ewma_ucl=s.target + half,
        lsl=s.lsl,
        usl=s.usl,
        signals=with_marks(signals, verdict.marks, offset=len(samples) - n),
    )


def trailing_count(statistic: Sequence[float], limit: float) -> int:
    """How many of the latest values of a statistic exceed the limit, in a row."""
    count = 0
    for value in reversed(statistic):
        if not value > limit:
            break
        count += 1
    return count


def with_marks(
    signals: dict[int, list[str]], marks: dict[int, list[str]], offset: int
) -> dict[int, list[str]]:
    """Signals of a charted window plus the verdict's marks, shifted by the window's offset."""
    merged = {i: list(rules) for i, rules in signals.items()}
    for index, rules in sorted(marks.items()):
        if index < offset:
            continue
        shown = merged.setdefault(index - offset, [])
        shown.extend(rule for rule in rules if rule not in shown)
    return merged


def _verdict(run: int, n: int, subject: str, state: str, rule: str) -> ChartVerdict:
    """A verdict whose run points all carry the same rule."""
    return ChartVerdict(run, subject, state, {i: [rule] for i in range(n - run, n)})


def _side(value: float, center: float) -> int:
    """+1 above the center, -1 below it."""
    return 1 if value > center else -1
