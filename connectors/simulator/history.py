"""In-memory history for the simulator that stores client writes with a source timestamp."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import cast

from asyncua import ua
from asyncua.server.history import HistoryDict


def ua_datetime(moment: datetime) -> ua.DateTime:
    """`moment` typed as asyncua's DateTime (a datetime subclass it annotates timestamps with)."""
    return cast("ua.DateTime", moment)


def stamped(value: ua.DataValue, now: datetime | None = None) -> ua.DataValue:
    """`value` with a Good status and source/server timestamps filled in where it had none.

    Clients usually write only the value; the server then owns the timestamps, and asyncua's
    in-memory history cannot compare or prune values that have no SourceTimestamp.
    """
    moment = ua_datetime(now or datetime.now(UTC))
    return dataclasses.replace(
        value,
        StatusCode=value.StatusCode if value.StatusCode is not None else ua.StatusCode(),
        SourceTimestamp=value.SourceTimestamp or value.ServerTimestamp or moment,
        ServerTimestamp=value.ServerTimestamp or moment,
    )


class StampedHistory(HistoryDict):
    """asyncua's dictionary history, stamping values that arrive without a source timestamp."""

    async def save_node_value(self, node_id: ua.NodeId, datavalue: ua.DataValue) -> None:
        """Store one value change of a historized node."""
        await super().save_node_value(node_id, stamped(datavalue))
