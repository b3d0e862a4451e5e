"""The simulated plant's record of every write its OPC UA clients made: what a plant's own
audit trail would show, and how a test proves a write happened once (not just that a value
ended up right)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.common.callback import CallbackService, CallbackType, ServerItemCallback
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientWrite:
    """One value a client wrote to one node, and whether the server took it."""

    node_id: str
    value: Any
    accepted: bool
    at: datetime


class ClientWriteLog:
    """Every Value write made through a client session (never the simulator's own updates)."""

    def __init__(self) -> None:
        self._writes: list[ClientWrite] = []

    def attach(self, server: Server) -> None:
        """Record the writes of `server`'s clients from now on."""
        server.subscribe_server_callback(CallbackType.PostWrite, self._after_write)

    @property
    def writes(self) -> list[ClientWrite]:
        """The writes so far, oldest first (a copy)."""
        return list(self._writes)

    def to(self, node_id: str) -> list[ClientWrite]:
        """The writes to one node (as its string NodeId, e.g. ns=2;s=Line1.Filler.X)."""
        return [w for w in self._writes if w.node_id == node_id]

    async def _after_write(self, event: ServerItemCallback, _: CallbackService) -> None:
        if not event.is_external:  # the server's own session (namespaces, its start-up)
            return
        params: ua.WriteParameters = event.request_params
        results: list[ua.StatusCode] = event.response_params or []
        now = datetime.now(UTC)
        for item, status in zip(params.NodesToWrite, results, strict=False):
            if item.AttributeId != AttributeIds.Value:
                continue
            variant = item.Value.Value if item.Value is not None else None
            write = ClientWrite(
                node_id=item.NodeId.to_string(),
                value=variant.Value if variant is not None else None,
                accepted=status.is_good(),
                at=now,
            )
            self._writes.append(write)
            logger.info(
                "client wrote %r to %s: %s",
                write.value,
                write.node_id,
                "accepted" if write.accepted else status.name,
            )
