"""The conformance suite: checks, one class per port, that a connector behaves as the platform
relies on. An integrator subclasses the classes of the ports their connector provides (or
`ConnectorChecks`, all four, of which the plugin runs those the spec provides):

    # tests/test_conformance.py
    from connectors.testing.suite import TagSourceChecks

    class TestCsvHistorian(TagSourceChecks):
        connector_spec = "csv_historian"        # or: pytest --connector csv_historian

and provides the `conformance_peer` fixture (see connectors/testing/plugin.py).

Decisions the suite holds connectors to:

- reads give one Sample per tag asked, in order (duplicates too), with timezone-aware source
  times and a Quality; a tag the peer does not have comes back BAD (it does not raise, so
  one wrong tag does not hide the others); history of an unknown tag is empty or raises
  ConnectorError;
- history is sorted by source time and inside the window asked for;
- guarded writes refuse (GuardrailViolation) a node not on the allow-list, a target out of
  bounds, a step larger than allowed, and a premise (from_value) that is no longer live, and
  change nothing then; an allowed write reads back as written and, repeated, reports
  already_applied;
- MES reads return valid ISA-95 records of the kinds asked only, time-stamped ones inside the
  window; unknown kinds raise ConnectorError, naive times ValueError;
- MES writes are idempotent on their action id (same reference, already_applied) and refuse
  inconsistent requests with WriteRejected: unknown lot, material, supplier, equipment or work
  order, an illegal lot status change, a unit mismatch, a quantity that is not positive, a
  need-by date that has passed, an operation on other equipment.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
import pytest_asyncio

from connectors.base import MesSource, MesWriter, TagSource, TagWriter
from connectors.mes.records import RECORD_MODELS
from connectors.spec import PORT_PROTOCOLS, ConnectorSpec, Port
from connectors.testing.peer import (
    ConformancePeer,
    MesReadData,
    MesWriteData,
    TagData,
    TagWriteData,
)
from factory_agents.actions import (
    DispatchList,
    LoadPlan,
    LoadShift,
    LoadSlot,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
    SetpointChange,
)
from factory_agents.errors import (
    ConfigurationError,
    ConnectorError,
    GuardrailViolation,
    WriteRejected,
)
from factory_agents.isa95 import LotStatus, MesData
from factory_agents.plant import Quality

F = TypeVar("F", bound=Callable[..., Any])
PORT_ATTRIBUTE = "_conformance_port"
_PROTOCOLS: dict[Port, type] = {
    "tags": TagSource,
    "tag_writes": TagWriter,
    "mes": MesSource,
    "mes_writes": MesWriter,
}


def port(name: Port) -> Callable[[F], F]:
    """Mark a check as belonging to one port (the plugin deselects ports a spec lacks)."""

    def mark(check: F) -> F:
        setattr(check, PORT_ATTRIBUTE, name)
        return pytest.mark.asyncio(check)  # type: ignore[no-any-return]

    return mark


def resolve_spec(config: pytest.Config, cls: type) -> ConnectorSpec | None:
    """The spec under test: --connector NAME, else the class's `connector_spec`, else None."""
    from factory_agents.registry import connector_specs

    wanted: ConnectorSpec | str | None = config.getoption("connector", default=None)
    if wanted is None:
        wanted = getattr(cls, "connector_spec", None)
    if wanted is None or isinstance(wanted, ConnectorSpec):
        return wanted
    specs = connector_specs()
    if wanted not in specs:
        raise ConfigurationError(
            f"no installed connector is named {wanted!r}; installed: {sorted(specs)}. Install"
            " its package (pip install -e .) so its `factory_agents.connectors` entry point"
            " is registered"
        )
    return specs[wanted]


def resolve_config(config: pytest.Config, cls: type) -> dict[str, Any]:
    """The connector config: --connector-config FILE (YAML or JSON), else the class's."""
    path: str | None = config.getoption("connector_config", default=None)
    if path is None:
        return dict(getattr(cls, "connector_config", None) or {})
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigurationError(f"cannot read the connector config {path}: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"the connector config {path} must be a mapping of settings")
    return data


@contextlib.asynccontextmanager
async def opened(connector: Any) -> AsyncIterator[Any]:
    """The connector, entered if it is an async context manager, closed afterwards if it can."""
    if hasattr(connector, "__aenter__"):
        async with connector as entered:
            yield entered if entered is not None else connector
        return
    try:
        yield connector
    finally:
        for name in ("aclose", "close"):
            closer = getattr(connector, name, None)
            if callable(closer):
                result = closer()
                if inspect.isawaitable(result):
                    await result
                break


class ConnectorUnderTest:
    """Builds the connector under test from its spec, config and peer; checks its ports."""

    connector_spec: ClassVar[ConnectorSpec | str | None] = None
    """The spec (or installed name) to check, unless --connector names one."""
    connector_config: ClassVar[dict[str, Any] | None] = None
    """Config used unless --connector-config gives a file; the peer's config goes on top."""
    ports: ClassVar[tuple[Port, ...] | None] = None
    """Ports to check; None means those the spec provides."""

    @pytest_asyncio.fixture
    async def conformance_connector(
        self, request: pytest.FixtureRequest, conformance_peer: ConformancePeer
    ) -> AsyncIterator[Any]:
        """The connector under test, opened for one check."""
        if conformance_peer.connector is not None:
            async with opened(conformance_peer.connector) as connector:
                yield connector
            return
        spec = resolve_spec(request.config, type(self))
        if spec is None:
            raise ConfigurationError(
                "say which connector to check: pytest --connector NAME, `connector_spec` on"
                " the test class, or ConformancePeer(connector=...) from conformance_peer"
            )
        config = {**resolve_config(request.config, type(self)), **conformance_peer.config}
        async with opened(spec.create(config)) as connector:
            yield connector

    @pytest.mark.asyncio
    async def test_the_spec_is_consistent_and_its_ports_are_implemented(
        self, request: pytest.FixtureRequest, conformance_connector: Any
    ) -> None:
        """The spec checks out; the connector it builds implements every port it claims."""
        from factory_agents.registry import check_connector_spec

        spec = resolve_spec(request.config, type(self))
        claimed = self.ports or ()
        if spec is not None:
            check_connector_spec(spec.name, spec)
            claimed = spec.provides
        missing = [
            PORT_PROTOCOLS[p]
            for p in claimed
            if not isinstance(conformance_connector, _PROTOCOLS[p])
        ]
        assert not missing, f"the connector claims but does not implement {missing}"


def _new_id(what: str) -> str:
    return f"conf-{what}-{uuid.uuid4().hex[:12]}"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


class TagSourceChecks(ConnectorUnderTest):
    """TagSource: reads in order with quality and aware source times; history sorted, windowed."""

    @staticmethod
    def _tag_data(peer: ConformancePeer) -> TagData:
        assert peer.tags is not None, "conformance_peer must give ConformancePeer(tags=TagData)"
        assert peer.tags.tags, "TagData.tags must name at least one tag the peer has"
        return peer.tags

    @port("tags")
    async def test_tags_read_gives_one_sample_per_tag_in_order(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._tag_data(conformance_peer)
        asked = [*reversed(data.tags), data.tags[0]]
        samples = await conformance_connector.read(asked)
        assert [s.tag for s in samples] == asked
        for sample in samples:
            assert sample.source_time.tzinfo is not None, f"{sample.tag}: naive source time"
            assert isinstance(sample.quality, Quality)
        by_tag = {s.tag: s for s in samples}
        for tag, value in data.values.items():
            assert by_tag[tag].quality is Quality.GOOD, f"{tag}: {by_tag[tag].quality}"
            assert _close(by_tag[tag].value, value), f"{tag}: {by_tag[tag].value} != {value}"
        assert await conformance_connector.read([]) == []

    @port("tags")
    async def test_tags_unknown_tags_come_back_bad_without_hiding_the_others(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._tag_data(conformance_peer)
        asked = [data.tags[0], data.unknown_tag, data.tags[-1]]
        samples = await conformance_connector.read(asked)
        assert [s.tag for s in samples] == asked
        assert samples[1].quality is Quality.BAD
        assert samples[0].quality is not Quality.BAD or data.tags[0] not in data.values

    @port("tags")
    async def test_tags_history_is_sorted_and_inside_the_window(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._tag_data(conformance_peer)
        start, end = data.history_start, data.history_end
        history = await conformance_connector.history(data.history_tag, start, end)
        assert history, f"no history of {data.history_tag} between {start} and {end}"
        times = [s.source_time for s in history]
        assert all(t.tzinfo is not None for t in times)
        assert times == sorted(times), "history is not sorted by source time"
        assert start <= times[0] and times[-1] <= end, "history outside the window asked"
        assert {s.tag for s in history} == {data.history_tag}
        middle = times[len(times) // 2]
        first_half = await conformance_connector.history(data.history_tag, start, middle)
        assert first_half and all(s.source_time <= middle for s in first_half)
        assert len(first_half) <= len(history)

    @port("tags")
    async def test_tags_history_of_an_unknown_tag_is_empty_or_a_connector_error(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._tag_data(conformance_peer)
        try:
            history = await conformance_connector.history(
                data.unknown_tag, data.history_start, data.history_end
            )
        except ConnectorError:
            return
        assert history == []


class TagWriterChecks(ConnectorUnderTest):
    """TagWriter: guarded (allow-list, bounds, step, premise), idempotent, read back."""

    @staticmethod
    def _setpoint_data(peer: ConformancePeer) -> TagWriteData:
        assert peer.tag_writes is not None, (
            "conformance_peer must give ConformancePeer(tag_writes=TagWriteData)"
        )
        return peer.tag_writes

    async def _live(self, connector: Any, data: TagWriteData) -> float:
        if data.read_value is not None:
            return await data.read_value(data.node_id)
        assert isinstance(connector, TagSource), "give TagWriteData.read_value"
        (sample,) = await connector.read([data.node_id])
        assert sample.quality is Quality.GOOD, f"{data.node_id} reads {sample.quality}"
        return float(sample.value)

    def _change(self, data: TagWriteData, start: float, target: float) -> SetpointChange:
        return SetpointChange(
            action_id=_new_id("sp"), node_id=data.node_id, from_value=start, to_value=target,
            unit=data.limit.unit,
        )  # fmt: skip

    async def _refused(self, connector: Any, data: TagWriteData, change: SetpointChange) -> None:
        before = await self._live(connector, data)
        with pytest.raises(GuardrailViolation):
            await connector.write_setpoint(change)
        assert _close(await self._live(connector, data), before), "a refused write changed it"

    @port("tag_writes")
    async def test_tag_writes_refuse_a_node_not_on_the_allow_list(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._setpoint_data(conformance_peer)
        change = SetpointChange(
            action_id=_new_id("sp"), node_id=data.not_allowed, from_value=0.0, to_value=1.0,
            unit=data.limit.unit,
        )  # fmt: skip
        with pytest.raises(GuardrailViolation):
            await conformance_connector.write_setpoint(change)

    @port("tag_writes")
    async def test_tag_writes_refuse_out_of_bounds_too_large_steps_and_stale_premises(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._setpoint_data(conformance_peer)
        limit = data.limit
        live = await self._live(conformance_connector, data)
        await self._refused(
            conformance_connector, data, self._change(data, live, limit.maximum + limit.max_step)
        )
        big = [live + 1.5 * limit.max_step, live - 1.5 * limit.max_step]
        inside = [t for t in big if limit.minimum <= t <= limit.maximum]
        assert inside, "the live value leaves no room for a too-large step inside the bounds"
        await self._refused(conformance_connector, data, self._change(data, live, inside[0]))
        stale = self._change(data, live + limit.max_step / 2, live + limit.max_step / 4)
        await self._refused(conformance_connector, data, stale)

    @port("tag_writes")
    async def test_tag_writes_read_back_and_are_idempotent(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._setpoint_data(conformance_peer)
        limit = data.limit
        live = await self._live(conformance_connector, data)
        target = live + limit.max_step / 2
        if target > limit.maximum:
            target = live - limit.max_step / 2
        assert limit.minimum <= target <= limit.maximum, "no room for a step inside the bounds"
        change = self._change(data, live, target)
        first = await conformance_connector.write_setpoint(change)
        assert not first.already_applied
        assert _close(first.before, live) and _close(first.read_back, target)
        assert first.node_id == data.node_id and first.at.tzinfo is not None
        assert _close(await self._live(conformance_connector, data), target)
        again = await conformance_connector.write_setpoint(change)
        assert again.already_applied and _close(again.read_back, target)
        restore = await conformance_connector.write_setpoint(self._change(data, target, live))
        assert _close(restore.read_back, live)


class MesSourceChecks(ConnectorUnderTest):
    """MesSource: valid ISA-95 records of the kinds asked, time-stamped ones in the window."""

    @staticmethod
    def _mes_data(peer: ConformancePeer) -> MesReadData:
        assert peer.mes is not None, "conformance_peer must give ConformancePeer(mes=MesReadData)"
        assert peer.mes.kinds, "MesReadData.kinds must name kinds the peer has records of"
        return peer.mes

    @port("mes")
    async def test_mes_reads_return_valid_records_of_the_kinds_asked_only(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_data(conformance_peer)
        found = await conformance_connector.fetch(data.kinds, data.since, data.until)
        assert isinstance(found, MesData)
        for kind in RECORD_MODELS:
            records = getattr(found, kind)
            if kind in data.kinds:
                assert records, f"no {kind} between {data.since} and {data.until}"
                assert all(isinstance(r, RECORD_MODELS[kind]) for r in records)
            else:
                assert records == (), f"{kind} were not asked for"
        one = await conformance_connector.fetch(data.kinds[:1], data.since, data.until)
        assert getattr(one, data.kinds[0]) == getattr(found, data.kinds[0])

    @port("mes")
    async def test_mes_time_stamped_records_lie_in_the_window(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_data(conformance_peer)
        s, u = data.since, data.until
        events = ("quality_results", "downtime", "production_counts", "consumption")
        found = await conformance_connector.fetch(events, s, u)
        assert all(s <= q.sampled_at <= u for q in found.quality_results)
        assert all(s <= c.at <= u for c in found.consumption)
        assert all(p.end >= s and p.start <= u for p in found.production_counts)
        assert all(d.started_at <= u and (d.ended_at or u) >= s for d in found.downtime)
        later = await conformance_connector.fetch(
            events, u + timedelta(days=3650), u + timedelta(days=3651)
        )
        assert not later.quality_results and not later.consumption

    @port("mes")
    async def test_mes_refuses_unknown_kinds_and_naive_times(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_data(conformance_peer)
        with pytest.raises(ConnectorError):
            await conformance_connector.fetch(["no_such_kind"], data.since, data.until)
        with pytest.raises(ValueError):
            await conformance_connector.fetch(
                data.kinds, data.since.replace(tzinfo=None), data.until
            )


class MesWriterChecks(ConnectorUnderTest):
    """MesWriter: every write idempotent on its action id, inconsistent ones refused."""

    @staticmethod
    def _mes_write_data(peer: ConformancePeer) -> MesWriteData:
        assert peer.mes_writes is not None, (
            "conformance_peer must give ConformancePeer(mes_writes=MesWriteData)"
        )
        assert peer.mes_writes.holdable_lots, "MesWriteData.holdable_lots must not be empty"
        return peer.mes_writes

    async def _lot_status(self, connector: Any, data: MesWriteData) -> dict[str, LotStatus]:
        week = timedelta(days=7)
        found = await connector.fetch(["lots"], data.now - week, data.now)
        return {lot.id: lot.status for lot in found.lots}

    @port("mes_writes")
    async def test_mes_writes_hold_is_idempotent_and_release_restores(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_write_data(conformance_peer)
        readable = isinstance(conformance_connector, MesSource)
        before = await self._lot_status(conformance_connector, data) if readable else {}
        hold = LotHold(action_id=_new_id("hold"), lot_ids=data.holdable_lots, reason="check")
        first = await conformance_connector.hold_lots(hold)
        again = await conformance_connector.hold_lots(hold)
        assert (first.already_applied, again.already_applied) == (False, True)
        assert first.reference == again.reference and first.action_id == hold.action_id
        if readable:
            held = await self._lot_status(conformance_connector, data)
            assert all(held[i] is LotStatus.HOLD for i in hold.lot_ids)
        undone = await conformance_connector.release_lots(hold, reason="checked")
        assert not undone.already_applied
        assert (await conformance_connector.release_lots(hold, reason="checked")).already_applied
        if readable:
            after = await self._lot_status(conformance_connector, data)
            assert {i: after[i] for i in hold.lot_ids} == {i: before[i] for i in hold.lot_ids}

    @port("mes_writes")
    async def test_mes_writes_refuse_unknown_lots_and_illegal_status_changes(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_write_data(conformance_peer)
        readable = isinstance(conformance_connector, MesSource)
        before = await self._lot_status(conformance_connector, data) if readable else {}
        unknown = LotHold(
            action_id=_new_id("hold"), lot_ids=(data.holdable_lots[0], "CONF-NO-SUCH-LOT"),
            reason="check",
        )  # fmt: skip
        with pytest.raises(WriteRejected):
            await conformance_connector.hold_lots(unknown)
        illegal = LotHold(
            action_id=_new_id("hold"), lot_ids=(data.holdable_lots[0], data.unholdable_lot),
            reason="check",
        )  # fmt: skip
        with pytest.raises(WriteRejected):
            await conformance_connector.hold_lots(illegal)
        with pytest.raises(WriteRejected):
            await conformance_connector.release_lots(illegal, reason="never held")
        if readable:
            assert await self._lot_status(conformance_connector, data) == before

    @port("mes_writes")
    async def test_mes_writes_purchase_requisitions_are_idempotent_and_checked(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_write_data(conformance_peer)
        request = PurchaseRequisition(
            action_id=_new_id("pr"), material_id=data.material_id, quantity=100,
            unit=data.material_unit, supplier=data.supplier_id,
            need_by=data.now + timedelta(days=5),
        )  # fmt: skip
        first = await conformance_connector.create_purchase_requisition(request)
        again = await conformance_connector.create_purchase_requisition(request)
        assert (first.already_applied, again.already_applied) == (False, True)
        assert first.reference == again.reference
        wrong: dict[str, dict[str, Any]] = {
            "unknown material": {"material_id": "CONF-NO-SUCH-MATERIAL"},
            "unit mismatch": {"unit": data.other_unit},
            "unknown supplier": {"supplier": "conf-no-such-supplier"},
            "need-by passed": {"need_by": data.now - timedelta(days=1)},
        }
        negative = PurchaseRequisition.model_construct(
            **{**request.model_dump(), "action_id": _new_id("pr"), "quantity": -5.0}
        )
        requests = {
            why: request.model_copy(update={"action_id": _new_id("pr"), **change})
            for why, change in wrong.items()
        }
        for why, inconsistent in {**requests, "a negative quantity": negative}.items():
            try:
                await conformance_connector.create_purchase_requisition(inconsistent)
            except WriteRejected:
                continue
            pytest.fail(f"a purchase requisition with {why} was accepted")

    @port("mes_writes")
    async def test_mes_writes_dispatch_lists_are_idempotent_and_checked(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_write_data(conformance_peer)
        start = data.now + timedelta(hours=3)
        entry = data.dispatch.model_copy(update={"start": start, "end": start + timedelta(hours=1)})
        dispatch = DispatchList(action_id=_new_id("dl"), line_id=data.line_id, entries=(entry,))
        first = await conformance_connector.publish_dispatch_list(dispatch)
        again = await conformance_connector.publish_dispatch_list(dispatch)
        assert (first.already_applied, again.already_applied) == (False, True)
        assert first.reference == again.reference
        for wrong in (
            {"work_order_id": "CONF-NO-SUCH-ORDER"},
            {"equipment_id": data.line_id if data.line_id != entry.equipment_id else "x"},
        ):
            with pytest.raises(WriteRejected):
                await conformance_connector.publish_dispatch_list(
                    DispatchList(
                        action_id=_new_id("dl"), line_id=data.line_id,
                        entries=(entry.model_copy(update=wrong),),
                    )
                )  # fmt: skip

    @port("mes_writes")
    async def test_mes_writes_maintenance_orders_and_load_plans_are_idempotent(
        self, conformance_connector: Any, conformance_peer: ConformancePeer
    ) -> None:
        data = self._mes_write_data(conformance_peer)
        order = MaintenanceWorkOrder(
            action_id=_new_id("mwo"), equipment_id=data.equipment_id, description="check",
            due_by=data.now + timedelta(days=2),
        )  # fmt: skip
        first = await conformance_connector.create_maintenance_order(order)
        again = await conformance_connector.create_maintenance_order(order)
        assert (first.already_applied, again.already_applied) == (False, True)
        assert first.reference == again.reference
        with pytest.raises(WriteRejected):
            await conformance_connector.create_maintenance_order(
                order.model_copy(
                    update={"action_id": _new_id("mwo"), "equipment_id": "conf-no-such-equipment"}
                )
            )
        slot = LoadSlot(start=data.now, end=data.now + timedelta(hours=1), energy_kwh=10.0)
        plan = LoadShift(
            action_id=_new_id("lp"), site_id=data.site_id,
            plans=(LoadPlan(load="conformance", slots=(slot,)),),
        )  # fmt: skip
        published = await conformance_connector.publish_load_plan(plan)
        assert not published.already_applied
        assert (await conformance_connector.publish_load_plan(plan)).already_applied


class ConnectorChecks(TagSourceChecks, TagWriterChecks, MesSourceChecks, MesWriterChecks):
    """Every port's checks; the plugin keeps those of the ports the spec provides."""


def check_port(check: Callable[..., Any]) -> str | None:
    """The port a check belongs to, or None for checks of every connector."""
    return getattr(check, PORT_ATTRIBUTE, None)
