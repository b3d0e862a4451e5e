"""Monitored items with an explicit queue policy, delivered as samples with quality and staleness.

The server keeps `server_queue_size` values per item between two publishes and drops the
oldest (or newest) when more arrive; the client keeps `client_buffer` updates for a slow
consumer and drops by its own policy, counting what it dropped. When the link is lost every
tag's last value is delivered again flagged stale (quality UNCERTAIN); once it is back the
current values are read and delivered.

Example::

    queue = QueuePolicy(sampling_interval=0.1, server_queue_size=10, client_buffer=10_000)
    async with await plant.subscribe(["ns=2;s=Line1.Filler.FillWeight"], queue=queue) as sub:
        async for update in sub:
            print(update.sample.value, update.sample.quality, update.stale)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, Subscription
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError
from pydantic import BaseModel, ConfigDict, Field

from connectors.opcua.samples import parse_node_id, status_name
from factory_agents.errors import ConnectorError
from factory_agents.plant import Quality, Sample

logger = logging.getLogger(__name__)

_OVERFLOW = {
    "drop_oldest": OverflowPolicy.DROP_OLDEST,
    "drop_newest": OverflowPolicy.DROP_NEWEST,
}


class QueuePolicy(BaseModel):
    """How values queue on the server (per item) and in the client, and what overflows drop."""

    model_config = ConfigDict(frozen=True)

    sampling_interval: float = Field(
        0.1, ge=0, description="Seconds between the server's samples of each item (0: fastest)"
    )
    server_queue_size: int = Field(
        10, ge=1, description="Values the server keeps per item between two publishes"
    )
    discard_oldest: bool = Field(
        True, description="When the server's queue of an item is full: drop the oldest value"
    )
    client_buffer: int = Field(
        10_000, ge=1, description="Updates kept in the client for a consumer that falls behind"
    )
    client_overflow: Literal["drop_oldest", "drop_newest"] = Field(
        "drop_oldest", description="What the client drops when its buffer is full"
    )


@dataclass(frozen=True, slots=True)
class TagUpdate:
    """One delivered value: the sample, whether it is stale, whether it came late (replayed)."""

    sample: Sample
    stale: bool = False
    replayed: bool = False
    raw: object = None
    """The value as decoded from the server (any data type), for display."""


class TagSubscription:
    """A live subscription to some tags (async iterator of TagUpdate, async context manager)."""

    def __init__(
        self,
        client: Client,
        node_ids: list[str],
        *,
        queue: QueuePolicy,
        publishing_interval: float,
        convert: Callable[[str, ua.DataValue, datetime], Sample],
        refresh: Callable[[Sequence[str]], Awaitable[list[Sample]]],
        per_request: int,
        endpoint: str,
    ) -> None:
        if not node_ids:
            raise ConnectorError("a subscription needs at least one node id")
        if publishing_interval <= 0:
            raise ConnectorError(f"publishing interval must be positive; got {publishing_interval}")
        self.node_ids = node_ids
        self.queue = queue
        self.publishing_interval = publishing_interval
        self.dropped = 0
        self._client = client
        self._nodes = [parse_node_id(node_id) for node_id in node_ids]
        self._tags = {node: node_id for node, node_id in zip(self._nodes, node_ids, strict=True)}
        self._convert = convert
        self._refresh = refresh
        self._per_request = max(per_request, 1)
        self._endpoint = endpoint
        self._buffer: collections.deque[TagUpdate] = collections.deque()
        self._ready = asyncio.Event()
        self._latest: dict[str, Sample] = {}
        self._stale = False
        self._closed = False
        self._subscription: Subscription | None = None
        self._pump: asyncio.Task[None] | None = None
        self._refreshing: set[asyncio.Task[None]] = set()
        self._on_close: list[Callable[[], None]] = []

    @property
    def stale(self) -> bool:
        """True while the link is down: the latest values are the last known, not current."""
        return self._stale

    @property
    def pending(self) -> int:
        """Updates received and not consumed yet (at most the client buffer)."""
        return len(self._buffer)

    def latest(self) -> dict[str, Sample]:
        """The last sample of each tag (UNCERTAIN while the link is down)."""
        if not self._stale:
            return dict(self._latest)
        return {tag: _flagged_stale(sample) for tag, sample in self._latest.items()}

    async def start(self) -> None:
        """Create the subscription and its monitored items on the server."""
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=self.publishing_interval * 1000,
            RequestedLifetimeCount=10_000,
            RequestedMaxKeepAliveCount=self._client.get_keepalive_count(
                self.publishing_interval * 1000
            ),
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        try:
            self._subscription = await self._client.create_subscription(
                params,
                None,
                queue_maxsize=self.queue.client_buffer,
                overflow=_OVERFLOW[self.queue.client_overflow],
            )
            refused = await self._monitor()
        except (OSError, TimeoutError, UaError) as err:
            await self.close()
            raise ConnectorError(
                f"{self._endpoint} refused or failed to set up the subscription: {err!r}. Check"
                " the server's subscription limits and that it is reachable"
            ) from err
        if refused:
            await self.close()
            names = ", ".join(f"{tag} ({status})" for tag, status in refused[:10])
            raise ConnectorError(
                f"{self._endpoint} would not monitor {len(refused)} of {len(self.node_ids)}"
                f" nodes: {names}. Check the node ids (`factory-agents opcua browse`)"
            )
        self._pump = asyncio.create_task(self._forward(), name="opcua-subscription")

    async def _monitor(self) -> list[tuple[str, str]]:
        """Create the monitored items in chunks; return the tags the server refused."""
        assert self._subscription is not None
        requests = [self._item_request(node, handle) for handle, node in enumerate(self._nodes)]
        refused: list[tuple[str, str]] = []
        for first in range(0, len(requests), self._per_request):
            chunk = requests[first : first + self._per_request]
            results = await self._subscription.create_monitored_items(chunk)
            for request, result in zip(chunk, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    tag = self._tags[request.ItemToMonitor.NodeId]
                    refused.append((tag, status_name(result)))
        return refused

    def _item_request(self, node: ua.NodeId, handle: int) -> ua.MonitoredItemCreateRequest:
        parameters = ua.MonitoringParameters(
            ClientHandle=handle + 1,
            SamplingInterval=self.queue.sampling_interval * 1000,
            QueueSize=self.queue.server_queue_size,
            DiscardOldest=self.queue.discard_oldest,
        )
        return ua.MonitoredItemCreateRequest(
            ItemToMonitor=ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(AttributeIds.Value)),
            MonitoringMode=ua.MonitoringMode.Reporting,
            RequestedParameters=parameters,
        )

    async def _forward(self) -> None:
        """Turn asyncua's data change events into TagUpdates in our own bounded buffer."""
        assert self._subscription is not None
        async for event in self._subscription:
            if not isinstance(event, DataChangeEvent):
                continue
            value = event.data.monitored_item.Value
            tag = self._tags.get(event.node.nodeid)
            if tag is None or value is None:
                continue
            sample = self._convert(tag, value, datetime.now(UTC))
            self._push(TagUpdate(sample, replayed=event.replayed, raw=event.value))

    def _push(self, update: TagUpdate) -> None:
        if not update.stale and not update.replayed:
            self._latest[update.sample.tag] = update.sample
        if len(self._buffer) >= self.queue.client_buffer:
            self.dropped += 1
            if self.queue.client_overflow == "drop_newest":
                return
            self._buffer.popleft()
        self._buffer.append(update)
        self._ready.set()

    def on_link(self, up: bool) -> None:
        """Called by the connector when the link drops (mark stale) or comes back (refresh)."""
        if self._closed:
            return
        if not up:
            self._stale = True
            for sample in self._latest.values():
                self._push(TagUpdate(_flagged_stale(sample), stale=True, raw=sample.value))
            return
        self._stale = False
        task = asyncio.create_task(self._refresh_after_reconnect())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    async def _refresh_after_reconnect(self) -> None:
        """Read and deliver the current values once the link is back."""
        try:
            samples = await self._refresh(self.node_ids)
        except ConnectorError as err:
            logger.warning("could not refresh subscribed values after reconnect: %s", err)
            return
        if not self._stale and not self._closed:
            for sample in samples:
                self._push(TagUpdate(sample, raw=sample.value))

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run `callback` when the subscription is closed."""
        self._on_close.append(callback)

    async def close(self) -> None:
        """Delete the subscription on the server and end the iteration."""
        if self._closed:
            return
        self._closed = True
        self._ready.set()
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(OSError, TimeoutError, UaError, ConnectionError):
                await subscription.delete()
        for task in (self._pump, *self._refreshing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for callback in self._on_close:
            callback()

    async def next(self) -> TagUpdate | None:
        """The next update (waiting for it), or None once the subscription is closed.

        Bound the wait with `asyncio.timeout(...)` around the call.
        """
        while not self._buffer:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._buffer.popleft()

    def __aiter__(self) -> TagSubscription:
        return self

    async def __anext__(self) -> TagUpdate:
        update = await self.next()
        if update is None:
            raise StopAsyncIteration
        return update

    async def __aenter__(self) -> TagSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def _flagged_stale(sample: Sample) -> Sample:
    """The last known sample, kept but no longer trusted as current."""
    if sample.quality is Quality.BAD or math.isnan(sample.value):
        return sample
    return sample.model_copy(update={"quality": Quality.UNCERTAIN})
