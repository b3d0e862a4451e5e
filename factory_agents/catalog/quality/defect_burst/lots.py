"""The lots to hold for a burst: why each is included, and its expected escapes if not held."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from factory_agents.catalog.quality.defect_burst.records import Inspection, ProducedLot
from factory_agents.catalog.quality.defect_burst.scan import BurstFinding


@dataclass(frozen=True)
class AffectedLot:
    """A lot (or a work order whose results carry no lot) to hold, why, and its escapes."""

    lot: str | None
    work_order: str
    reasons: tuple[str, ...]
    inspected: int
    defective: int
    quantity: float | None
    expected_defective: float | None
    expected_escapes: float | None
    expected_escapes_low: float | None
    excess_escapes: float | None


def affected_lots(
    finding: BurstFinding,
    monitored: Sequence[Inspection],
    keys: Sequence[str],
    produced: Sequence[ProducedLot],
    as_of: datetime,
    detection_probability: float,
) -> tuple[AffectedLot, ...]:
    """Lots with results in the burst and lots produced while it lasted, with their escapes."""
    burst = finding.burst
    if burst is None:
        return ()
    chart_keys = [b.count.key for b in finding.buckets]
    first = chart_keys.index(burst.first_bucket)
    burst_keys = set(chart_keys[first : first + burst.buckets])
    inside = [i for i, key in zip(monitored, keys, strict=True) if key in burst_keys]
    window_end = as_of if burst.ongoing else burst.end
    reasons: dict[tuple[str | None, str], list[str]] = {}
    counts: dict[tuple[str | None, str], tuple[int, int]] = {}
    for i in inside:
        ident = (i.lot, i.work_order)
        n, d = counts.get(ident, (0, 0))
        counts[ident] = (n + 1, d + (not i.passed))
    for ident, (n, d) in counts.items():
        why = f"{d} of {n} results failed inside the burst ({100 * d / n:.1f} %)"
        if ident[0] is None:
            why += "; the results carry no lot number, so hold the work order's output"
        reasons.setdefault(ident, []).append(why)
    quantities: dict[tuple[str | None, str], float] = {}
    for lot in produced:
        ident = (lot.lot, lot.work_order)
        quantities[ident] = lot.quantity
        if lot.produced_from < window_end and lot.produced_to > burst.start:
            inspected = ident in counts
            reasons.setdefault(ident, []).append(
                f"produced {lot.produced_from:%Y-%m-%d %H:%M}–{lot.produced_to:%H:%M}, overlapping"
                f" the burst ({burst.start:%Y-%m-%d %H:%M}–{window_end:%H:%M})"
                + ("" if inspected else "; not inspected yet")
            )
    p, p_low, p0 = burst.proportion, burst.proportion_low, finding.baseline.proportion
    miss = 1 - detection_probability
    out: list[AffectedLot] = []
    for ident in sorted(reasons, key=lambda k: (k[0] is None, k[0] or "", k[1])):
        quantity = quantities.get(ident)
        n, d = counts.get(ident, (0, 0))
        out.append(
            AffectedLot(
                lot=ident[0],
                work_order=ident[1],
                reasons=tuple(reasons[ident]),
                inspected=n,
                defective=d,
                quantity=quantity,
                expected_defective=None if quantity is None else quantity * p,
                expected_escapes=None if quantity is None else quantity * p * miss,
                expected_escapes_low=None if quantity is None else quantity * p_low * miss,
                excess_escapes=None if quantity is None else quantity * max(p - p0, 0.0) * miss,
            )
        )
    return tuple(out)
