"""OPC UA connector: secure sessions, chunked reads, history, browse, subscribe, guarded writes.

Reads are chunked to the server's MaxNodesPerRead. The link reconnects by itself (asyncua's
supervisor); while it is down the connector says so (`link_lost_since`), subscriptions mark
their last values stale, and no setpoint is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.observer import Observer
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import BadNoMatch, UaError, UaStatusCodeError

from connectors.base import WriteResult, same_setpoint, write_result
from connectors.opcua.browse import BrowsedNode, browse_tree
from connectors.opcua.data_types import as_written, variant_type_of
from connectors.opcua.machine_state import MachineStatus, read_machine_status
from connectors.opcua.samples import (
    FUTURE_TOLERANCE,
    fast_sample,
    numeric_value,
    parse_node_id,
    quality_of,
    reject_future,
    status_name,
    to_sample,
)
from connectors.opcua.security import (
    LOCAL_SIMULATOR,
    OpcUaSecurity,
    PeerCertificateCheck,
    choose_endpoint,
    refusal_hint,
)
from connectors.opcua.session import configure_security, server_endpoints, warn_if_remote
from connectors.opcua.setpoint_checks import (
    check_data_type,
    unit_names,
)
from connectors.opcua.subscription import QueuePolicy, TagSubscription
from connectors.opcua.tag_value import TagValue, tag_value
from factory_agents.agent import SetpointChange
from factory_agents.errors import (
    ConfigurationError,
    ConnectorError,
    DataQualityError,
    GuardrailViolation,
    WriteRejected,
    WriteVerificationError,
)
from factory_agents.plant import Quality, Sample
from factory_agents.policy import Policy, SetpointLimit

logger = logging.getLogger(__name__)

MAX_NODES_PER_READ = 500
"""Largest Read the connector sends, even to servers that allow more (keeps replies small)."""
_SESSION_TIMEOUT_MS = 600_000
_LIMIT_NODES = {
    "read": ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
    "browse": ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse,
    "monitor": ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall,
}
_ENGINEERING_UNITS = "0:EngineeringUnits"
_READ_CACHE_SIZE = 100_000


class _LinkObserver(Observer):
    """Hears asyncua's connection state changes; times nothing (no per-request overhead)."""

    def __init__(self, on_change: Callable[[UaClientState], None]) -> None:
        self._on_change = on_change

    def observe_request(self, request: Any) -> AbstractContextManager[None]:
        """No request timing."""
        return nullcontext()

    def on_state_change(self, state: UaClientState) -> None:
        """Pass the new state on."""
        self._on_change(state)


class OpcUaConnector:
    """An OPC UA server as a TagSource and TagWriter (async context manager).

    `security` defaults to `LOCAL_SIMULATOR`: no security, explicitly allowed, for the local
    unsecured simulator. Give an `OpcUaSecurity` for any other server.

    Example::

        async with OpcUaConnector("opc.tcp://127.0.0.1:4840/factory-agents/") as plant:
            samples = await plant.read(["ns=2;s=Line1.GoodCount"])
    """

    def __init__(
        self,
        endpoint: str,
        *,
        policy: Policy = Policy(),
        timeout: float = 5.0,
        security: OpcUaSecurity = LOCAL_SIMULATOR,
        stale_after: float | None = None,
        reconnect_max_delay: float = 10.0,
        max_nodes_per_read: int = MAX_NODES_PER_READ,
    ) -> None:
        parsed = urlparse(endpoint)
        if parsed.scheme != "opc.tcp" or not parsed.hostname:
            raise ConfigurationError(
                f"{endpoint!r} is not an OPC UA endpoint; write it as opc.tcp://<host>:<port>/<path>"
            )
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive seconds; got {timeout}")
        if stale_after is not None and stale_after <= 0:
            raise ConfigurationError(f"stale_after must be positive seconds; got {stale_after}")
        if max_nodes_per_read < 1:
            raise ConfigurationError(
                f"max_nodes_per_read must be at least 1; got {max_nodes_per_read}"
            )
        self.endpoint = endpoint
        self.policy = policy
        self.timeout = timeout
        self.security = security
        self.stale_after = timedelta(seconds=stale_after) if stale_after is not None else None
        self.reconnect_max_delay = reconnect_max_delay
        self.max_nodes_per_read = max_nodes_per_read
        self._client: Client | None = None
        self._limits: dict[str, int] = {}
        self._ever_connected = False
        self._closing = False
        self._lost_at: datetime | None = None
        self._link_listeners: list[Callable[[bool], None]] = []
        self._last_writes: dict[str, datetime] = {}
        self._units: dict[str, tuple[str, ...] | None] = {}
        self._certificate_check: PeerCertificateCheck | None = None
        self._value_reads: dict[str, ua.ReadValueId] = {}

    async def __aenter__(self) -> OpcUaConnector:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def link_lost_since(self) -> datetime | None:
        """When the link to the server was lost (None while it is up)."""
        return self._lost_at

    @property
    def connected(self) -> bool:
        """True while a session is open and the link is up."""
        return self._client is not None and self._lost_at is None

    def max_nodes(self, operation: str) -> int:
        """How many nodes one request of `operation` (read, browse, monitor) may carry."""
        server_limit = self._limits.get(operation, 0)
        cap = self.max_nodes_per_read if operation == "read" else 1000
        return min(server_limit, cap) if server_limit > 0 else cap

    async def connect(self) -> None:
        """Open a secured (or explicitly unsecured) session; reconnects by itself after a loss."""
        if self._client is not None:
            return
        client = Client(
            self.endpoint,
            timeout=self.timeout,
            auto_reconnect=True,
            reconnect_max_delay=self.reconnect_max_delay,
            reconnect_request_timeout=self.timeout,
        )
        client.name = client.description = "factory-agents"
        client.application_uri = "urn:factory-agents:client"
        client.session_timeout = _SESSION_TIMEOUT_MS
        client.uaclient.observer = _LinkObserver(self._on_link_state)
        if self.security.policy == "None":
            warn_if_remote(self.endpoint)
        if self.security.policy != "None" or self.security.identity != "anonymous":
            self._certificate_check = await configure_security(
                client, self.endpoint, self.security, self.timeout
            )
        self._closing = False
        try:
            await client.connect()
        except UaStatusCodeError as err:
            raise self._refused(err) from err
        except (OSError, TimeoutError, UaError) as err:
            if isinstance(err, UaError) and self.security.policy == "None":
                # e.g. "No matching endpoints": say what the server offers instead.
                choose_endpoint(
                    await server_endpoints(self.endpoint, self.timeout),
                    self.security,
                    self.endpoint,
                )
            raise ConnectorError(
                f"could not connect to the OPC UA server at {self.endpoint}: {err!r}. Check that"
                " the server is running, that host, port and path are right, and that no"
                " firewall blocks the port"
            ) from err
        self._client = client
        self._ever_connected = True
        self._lost_at = None
        await self._read_operation_limits()

    async def close(self) -> None:
        """Close the session and the connection (safe to call twice)."""
        client, self._client = self._client, None
        self._closing = True
        self._ever_connected = False
        self._lost_at = None
        self._link_listeners.clear()
        if client is not None:
            await client.disconnect()

    def _refused(self, err: UaStatusCodeError) -> ConnectorError:
        """The error for a server that refused the session, saying what to do."""
        name = status_name(ua.StatusCode(err.code))
        if self._certificate_check is not None and self._certificate_check.refusal:
            return ConnectorError(
                f"refused to connect to {self.endpoint}: {self._certificate_check.refusal}"
            )
        hint = refusal_hint(name, self.security.certificate)
        who = self.security.describe()
        if hint is None:
            hint = "check the server's log"
        return ConnectorError(
            f"{self.endpoint} refused the session ({who}): {name}; {hint}. Nothing else was"
            " exchanged"
        )

    async def _read_operation_limits(self) -> None:
        """Read MaxNodesPerRead, MaxNodesPerBrowse, MaxMonitoredItemsPerCall (0 = no limit)."""
        nodes = [ua.NodeId(ua.Int32(identifier)) for identifier in _LIMIT_NODES.values()]
        try:
            values = await self._read_values(nodes, "read the server's operation limits")
        except ConnectorError as err:  # a server may hide them; our own caps still apply
            logger.warning("%s; using the connector's own limits", err)
            return
        for operation, value in zip(_LIMIT_NODES, values, strict=True):
            number = numeric_value(value)
            good = value.StatusCode is None or value.StatusCode.is_good()
            self._limits[operation] = int(number) if good and number and number > 0 else 0

    def _on_link_state(self, state: UaClientState) -> None:
        """Track link losses and recoveries; tell the subscriptions."""
        if self._closing or not self._ever_connected:
            return
        if state is UaClientState.CONNECTED:
            if self._lost_at is not None:
                logger.info("link to %s is back (lost at %s)", self.endpoint, self._lost_at)
                self._lost_at = None
                self._tell_listeners(True)
        elif self._lost_at is None:
            self._lost_at = datetime.now(UTC)
            logger.warning("link to %s lost (%s); reconnecting", self.endpoint, state.value)
            self._tell_listeners(False)

    def _tell_listeners(self, up: bool) -> None:
        for listener in list(self._link_listeners):
            try:
                listener(up)
            except Exception:  # a listener's bug must not break the link tracking
                logger.exception("link listener failed")

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """Current values of `node_ids`, chunked to the server's MaxNodesPerRead, in order.

        Bad values come back as NaN with BAD quality, uncertain ones keep their value with
        UNCERTAIN quality; source times in the future are rejected (BAD), and with
        `stale_after` set, older good values are flagged UNCERTAIN.
        """
        size = self.max_nodes("read")
        chunks = [node_ids[first : first + size] for first in range(0, len(node_ids), size)]
        # All chunks are in flight at once; each is turned into samples as soon as its reply
        # arrives, while the server still answers the others.
        answers = await asyncio.gather(
            *(self._read_chunk(chunk) for chunk in chunks), return_exceptions=True
        )
        samples: list[Sample] = []
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
            samples += answer
        return samples

    async def _read_chunk(self, tags: Sequence[str]) -> list[Sample]:
        """One Read request's samples."""
        params = ua.ReadParameters(
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            NodesToRead=[self._value_read(tag) for tag in tags],
        )
        values = await self._read(params, len(tags), f"read {len(tags)} nodes")
        received_at = datetime.now(UTC)
        future = received_at + FUTURE_TOLERANCE
        stale = received_at - self.stale_after if self.stale_after is not None else None
        return [
            fast_sample(tag, value, future, stale)
            or self.judged(to_sample(tag, value, received_at), received_at)
            for tag, value in zip(tags, values, strict=True)
        ]

    async def read_values(self, node_ids: Sequence[str]) -> list[TagValue]:
        """Current values of any data type (text, booleans, arrays...) with status, in order."""
        size = self.max_nodes("read")
        values: list[ua.DataValue] = []
        for first in range(0, len(node_ids), size):
            chunk = node_ids[first : first + size]
            params = ua.ReadParameters(
                TimestampsToReturn=ua.TimestampsToReturn.Both,
                NodesToRead=[self._value_read(tag) for tag in chunk],
            )
            values += await self._read(params, len(chunk), f"read {len(chunk)} nodes")
        return [tag_value(tag, value) for tag, value in zip(node_ids, values, strict=True)]

    def _value_read(self, node_id: str) -> ua.ReadValueId:
        """The Read request item for a tag's value, remembered: agents read the same tags
        again and again (never changed once made)."""
        item = self._value_reads.get(node_id)
        if item is None:
            if len(self._value_reads) >= _READ_CACHE_SIZE:
                self._value_reads.clear()
            item = _read_value_id(parse_node_id(node_id), AttributeIds.Value)
            self._value_reads[node_id] = item
        return item

    def _sample(self, tag: str, value: ua.DataValue, received_at: datetime) -> Sample:
        """One DataValue as a judged Sample (the fast path when it applies)."""
        stale = received_at - self.stale_after if self.stale_after is not None else None
        return fast_sample(tag, value, received_at + FUTURE_TOLERANCE, stale) or self.judged(
            to_sample(tag, value, received_at), received_at
        )

    def judged(self, sample: Sample, received_at: datetime) -> Sample:
        """`sample` with future source times rejected (BAD) and stale ones flagged (UNCERTAIN)."""
        if sample.quality is Quality.BAD:
            return sample
        age = received_at - sample.source_time
        if age < -FUTURE_TOLERANCE:
            return sample.model_copy(update={"value": math.nan, "quality": Quality.BAD})
        if (
            self.stale_after is not None
            and sample.quality is Quality.GOOD
            and age > self.stale_after
        ):
            return sample.model_copy(update={"quality": Quality.UNCERTAIN})
        return sample

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """Raw historized values of one node between start and end, sorted by source time."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("history start and end must be timezone-aware (UTC)")
        if start > end:
            raise ValueError(f"history start {start.isoformat()} is after end {end.isoformat()}")
        node = self._require_client().get_node(parse_node_id(node_id))
        with self._translated(f"read the history of {node_id}", "is it historized?"):
            values = await node.read_raw_history(start, end, numvalues=0, return_bounds=False)
        received_at = datetime.now(UTC)
        samples = [
            reject_future(to_sample(node_id, value, received_at), received_at) for value in values
        ]
        return sorted(samples, key=lambda sample: sample.source_time)

    async def browse(
        self, root: str = "i=85", depth: int = 1, *, max_nodes: int = 5000
    ) -> tuple[list[BrowsedNode], bool]:
        """Nodes under `root` to `depth` levels with type, unit, range and access; truncated?"""
        if depth < 1:
            raise ConfigurationError(f"browse depth must be at least 1; got {depth}")
        client = self._require_client()
        with self._translated(f"browse {root}"):
            return await browse_tree(
                client.uaclient,
                parse_node_id(root),
                depth,
                max_nodes=max_nodes,
                per_request=self.max_nodes("browse"),
            )

    async def machine_status(self, machine: str) -> MachineStatus | None:
        """The OPC 40001 Machinery or PackML state of `machine`, if the server models one."""
        client = self._require_client()
        with self._translated(f"read the machine state of {machine}"):
            return await read_machine_status(client.uaclient, parse_node_id(machine), machine)

    async def subscribe(
        self,
        node_ids: Sequence[str],
        *,
        queue: QueuePolicy,
        publishing_interval: float = 0.1,
    ) -> TagSubscription:
        """Monitor `node_ids`; iterate the result for TagUpdates (stale ones if the link drops)."""
        client = self._require_client()
        subscription = TagSubscription(
            client,
            list(node_ids),
            queue=queue,
            publishing_interval=publishing_interval,
            convert=self._sample,
            refresh=self.read,
            per_request=self.max_nodes("monitor"),
            endpoint=self.endpoint,
        )
        self._link_listeners.append(subscription.on_link)
        try:
            await subscription.start()
        except BaseException:
            self._link_listeners.remove(subscription.on_link)
            raise
        subscription.on_close(lambda: self._forget_listener(subscription.on_link))
        return subscription

    def _forget_listener(self, listener: Callable[[bool], None]) -> None:
        with contextlib.suppress(ValueError):
            self._link_listeners.remove(listener)

    async def write_setpoint(
        self, change: SetpointChange, *, last_write_at: datetime | None = None
    ) -> WriteResult:
        """Guarded, idempotent write of one allow-listed setpoint, verified by reading back.

        `last_write_at` (from the ledger) and this connector's own last write to the node are
        checked against the allow-list's minimum interval.
        """
        limit = self.policy.limit_for(change.node_id)
        if not math.isfinite(change.to_value):
            raise GuardrailViolation(
                f"{change.node_id}: target {change.to_value} is not a finite number; nothing was"
                " written"
            )
        self._refuse_on_lost_link(change.node_id)
        node = parse_node_id(change.node_id)
        live_value, data_type = await self._read_attributes(
            node, (AttributeIds.Value, AttributeIds.DataType), f"read {change.node_id}"
        )
        variant_type = variant_type_of(change.node_id, live_value, data_type)
        check_data_type(limit, change.node_id, variant_type)
        live = self._live_number(change.node_id, live_value)
        target = as_written(change.node_id, change.to_value, variant_type)
        if same_setpoint(live, target):
            return write_result(change.node_id, live, target, live, already_applied=True)
        if not same_setpoint(live, change.from_value):
            raise GuardrailViolation(
                f"{change.node_id}: the proposal assumed {change.from_value:g} {change.unit} but"
                f" the live value is {live:g} {change.unit}; the premise changed and nothing was"
                " written. Let the agent propose again from the live value"
            )
        limit.check(live, float(target))
        await self._check_unit(node, limit)
        self._check_interval(limit, change.node_id, last_write_at)
        self._refuse_on_lost_link(change.node_id)
        await self._write_value(node, change.node_id, ua.Variant(target, variant_type))
        self._last_writes[change.node_id] = datetime.now(UTC)
        (read_back_value,) = await self._read_attributes(
            node, (AttributeIds.Value,), f"read back {change.node_id}"
        )
        read_back = numeric_value(read_back_value)
        if read_back is None or quality_of(read_back_value.StatusCode) is not Quality.GOOD:
            raise WriteVerificationError(
                f"{change.node_id}: wrote {target:g} but reading back gave"
                f" {status_name(read_back_value.StatusCode)} without a usable number; check the"
                " device before trying again"
            )
        if not same_setpoint(read_back, target):
            raise WriteVerificationError(
                f"{change.node_id}: wrote {target:g} {change.unit} but read back {read_back:g}"
                f" {change.unit}; the device did not take the value or changed it. Check the"
                " device before trying again"
            )
        return write_result(change.node_id, live, target, read_back, already_applied=False)

    def _refuse_on_lost_link(self, node_id: str) -> None:
        if self._lost_at is not None:
            raise DataQualityError(
                f"{node_id}: the link to {self.endpoint} has been down since"
                f" {self._lost_at:%H:%M:%S} UTC, so the live value cannot be checked; nothing was"
                " written. The connector is reconnecting; try again once it is back"
            )

    def _check_interval(
        self, limit: SetpointLimit, node_id: str, last_write_at: datetime | None
    ) -> None:
        known = [t for t in (last_write_at, self._last_writes.get(node_id)) if t is not None]
        limit.check_interval(max(known) if known else None, datetime.now(UTC))

    async def _check_unit(self, node: ua.NodeId, limit: SetpointLimit) -> None:
        """Refuse a write if the node's EngineeringUnits disagree with the allow-list's unit."""
        units = await self._node_units(node, limit.node_id)
        if units is not None and limit.unit not in units:
            raise GuardrailViolation(
                f"{limit.node_id} is in {units[0]!r} (its EngineeringUnits) but the allow-list"
                f" says {limit.unit!r}; nothing was written. Fix the unit in the policy"
            )

    async def _node_units(self, node: ua.NodeId, node_id: str) -> tuple[str, ...] | None:
        """The node's unit as display name and UNECE code, or None if it declares none."""
        if node_id in self._units:
            return self._units[node_id]
        client = self._require_client()
        units: tuple[str, ...] | None = None
        with self._translated(f"read the engineering unit of {node_id}"):
            try:
                unit_node = await client.get_node(node).get_child(_ENGINEERING_UNITS)
            except BadNoMatch:
                unit_node = None
            if unit_node is not None:
                info = await unit_node.read_value()
                if isinstance(info, ua.EUInformation):
                    units = unit_names(info)
        self._units[node_id] = units
        return units

    def _live_number(self, node_id: str, value: ua.DataValue) -> float:
        quality = quality_of(value.StatusCode)
        number = numeric_value(value)
        if quality is not Quality.GOOD or number is None:
            raise DataQualityError(
                f"{node_id}: the live value is {status_name(value.StatusCode)}"
                f" ({quality.value}), so the proposal's premise cannot be checked; nothing was"
                " written. Check the device and the node id"
            )
        return number

    async def _read_values(self, nodes: list[ua.NodeId], doing: str) -> list[ua.DataValue]:
        params = ua.ReadParameters(
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            NodesToRead=[_read_value_id(node, AttributeIds.Value) for node in nodes],
        )
        return await self._read(params, len(nodes), doing)

    async def _read_attributes(
        self, node: ua.NodeId, attributes: tuple[AttributeIds, ...], doing: str
    ) -> list[ua.DataValue]:
        params = ua.ReadParameters(
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            NodesToRead=[_read_value_id(node, attribute) for attribute in attributes],
        )
        return await self._read(params, len(attributes), doing)

    async def _read(
        self, params: ua.ReadParameters, expected: int, doing: str
    ) -> list[ua.DataValue]:
        client = self._require_client()
        with self._translated(doing):
            values = await client.uaclient.read(params)
        if len(values) != expected:
            raise ConnectorError(
                f"{self.endpoint} answered a read of {expected} values with {len(values)};"
                " the server is not following the protocol"
            )
        return values

    async def _write_value(self, node: ua.NodeId, node_id: str, variant: ua.Variant) -> None:
        # Only the value: no status or timestamps, which many PLCs refuse to take from clients.
        write = ua.WriteValue(
            NodeId=node,
            AttributeId=ua.UInt32(AttributeIds.Value),
            Value=ua.DataValue(variant, StatusCode=None),
        )
        client = self._require_client()
        with self._translated(f"write {node_id}"):
            (status,) = await client.uaclient.write(ua.WriteParameters(NodesToWrite=[write]))
        if not status.is_good():
            raise WriteRejected(
                f"{self.endpoint} refused to write {variant.Value!r} to {node_id}:"
                f" {status_name(status)}. This is final and is not retried; check the node's"
                " access level, data type and the device state"
            )

    def _require_client(self) -> Client:
        if self._client is None:
            raise ConnectorError(
                f"the connector for {self.endpoint} is not connected; use"
                " `async with OpcUaConnector(...)` or call connect() first"
            )
        return self._client

    @contextmanager
    def _translated(self, doing: str, hint: str = "") -> Iterator[None]:
        """Turn asyncua and network errors into ConnectorError naming the endpoint."""
        try:
            yield
        except UaStatusCodeError as err:
            raise ConnectorError(
                f"{self.endpoint} refused to {doing}: {err}. {hint}".strip()
            ) from err
        except (OSError, TimeoutError, UaError) as err:
            down = (
                f" The link has been down since {self._lost_at:%H:%M:%S} UTC."
                if self._lost_at is not None
                else ""
            )
            raise ConnectorError(
                f"could not {doing} on {self.endpoint}: {err!r}.{down} Check that the server is"
                " running and reachable; the connector reconnects by itself once it is"
            ) from err


def _read_value_id(node: ua.NodeId, attribute: AttributeIds) -> ua.ReadValueId:
    return ua.ReadValueId(NodeId=node, AttributeId=ua.UInt32(attribute))


__all__ = ["LOCAL_SIMULATOR", "OpcUaConnector", "OpcUaSecurity", "QueuePolicy", "TagValue"]
