"""Time intervals in seconds as (start, end) pairs: union, difference, total length."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Interval = tuple[float, float]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals as sorted, disjoint intervals."""
    merged: list[Interval] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def minus(intervals: Sequence[Interval], removed: Sequence[Interval]) -> list[Interval]:
    """The parts of disjoint intervals not covered by the disjoint `removed` intervals."""
    out: list[Interval] = []
    for a, b in intervals:
        cursor = a
        for c, d in removed:
            if d <= cursor or c >= b:
                continue
            if c > cursor:
                out.append((cursor, c))
            cursor = max(cursor, d)
        if cursor < b:
            out.append((cursor, b))
    return out


def total_length(intervals: Sequence[Interval]) -> float:
    """Total length of disjoint intervals."""
    return sum(b - a for a, b in intervals)
