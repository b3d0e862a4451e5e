"""A proposed schedule next to the one it would replace, as the Gantt chart an engineer approves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from factory_agents.catalog.scheduling.jobshop import Schedule, ScheduledOperation
from factory_agents.evidence import GanttChart, GanttTask


def gantt_chart(
    title: str,
    proposed: Schedule,
    current: Schedule,
    *,
    at: Callable[[int], datetime],
    label: Callable[[ScheduledOperation], str],
    moved: Callable[[ScheduledOperation], bool],
    now: datetime,
) -> GanttChart:
    """Both schedules on the clock `at` gives their time units; proposed operations flagged
    where `moved` says they changed."""

    def tasks(schedule: Schedule, mark: bool) -> list[GanttTask]:
        return [
            GanttTask(
                resource=op.machine,
                job=op.job,
                label=label(op),
                start=at(op.start),
                end=at(op.end),
                moved=mark and moved(op),
            )
            for op in schedule.operations
        ]

    return GanttChart(
        title=title, proposed=tasks(proposed, True), current=tasks(current, False), now=now
    )
