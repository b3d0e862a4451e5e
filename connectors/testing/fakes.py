"""In-memory fakes of the ports, for agents' and integrators' tests; they pass the conformance
suite themselves, so they behave like the real connectors where it matters.

Example::

    tags = FakeTagSource()
    tags.record("Line1.Filler.FillWeight", [(t0, 500.2), (t1, 500.4)])
    writer = FakeTagWriter(policy, tags)          # writes land in `tags`, read back from it
    mes = FakeMes(MesData(lots=(...,)), clock=lambda: now)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.base import MesWriteResult, WriteResult
from factory_agents.actions import (
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
    SetpointChange,
)
from factory_agents.errors import ConnectorError, GuardrailViolation, WriteRejected
from factory_agents.isa95 import (
    LotStatus,
    MaintenanceOrder,
    MesData,
    MesKind,
    PurchaseOrder,
)
from factory_agents.plant import Quality, Sample
from factory_agents.policy import Policy

HOLDABLE = (LotStatus.RELEASED, LotStatus.QUARANTINE)


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class FakeTagSource:
    """A TagSource over scripted samples: the newest sample of a tag is its current value.

    Unknown tags read as BAD samples (value NaN) and have no history.
    """

    def __init__(self, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._samples: dict[str, list[Sample]] = {}
        self._clock = clock

    def record(
        self,
        tag: str,
        points: Iterable[tuple[datetime, float]],
        quality: Quality = Quality.GOOD,
    ) -> None:
        """Add samples of one tag (any order; kept sorted by source time)."""
        samples = self._samples.setdefault(tag, [])
        samples += [Sample(tag=tag, value=v, source_time=t, quality=quality) for t, v in points]
        samples.sort(key=lambda s: s.source_time)

    def set(self, tag: str, value: float, at: datetime | None = None) -> Sample:
        """Give a tag a new current value, now (or at `at`)."""
        when = at or self._clock()
        self.record(tag, [(when, value)])
        return self._samples[tag][-1]

    def now(self) -> datetime:
        """The fake's current time."""
        return self._clock()

    def has(self, tag: str) -> bool:
        """Whether the tag exists."""
        return tag in self._samples

    async def read(self, node_ids: Sequence[str]) -> list[Sample]:
        """One Sample per id, in order; unknown tags come back BAD."""
        return [self._current(tag) for tag in node_ids]

    async def history(self, node_id: str, start: datetime, end: datetime) -> list[Sample]:
        """The samples of one tag in [start, end], sorted by source time."""
        return [s for s in self._samples.get(node_id, []) if start <= s.source_time <= end]

    def _current(self, tag: str) -> Sample:
        samples = self._samples.get(tag)
        if not samples:
            return Sample(tag=tag, value=math.nan, source_time=self._clock(), quality=Quality.BAD)
        return samples[-1]


class FakeTagWriter:
    """A TagWriter honouring a Policy, writing into a FakeTagSource (its read-back)."""

    def __init__(self, policy: Policy, tags: FakeTagSource) -> None:
        self.policy = policy
        self.tags = tags
        self._last_write: dict[str, datetime] = {}

    async def write_setpoint(self, change: SetpointChange) -> WriteResult:
        """Guarded, idempotent write: allow-list, bounds, step, premise and interval checked."""
        limit = self.policy.limit_for(change.node_id)
        if not math.isfinite(change.to_value):
            raise GuardrailViolation(f"{change.node_id}: target {change.to_value} is not finite")
        if not self.tags.has(change.node_id):
            raise ConnectorError(f"{change.node_id} does not exist in the fake plant")
        (current,) = await self.tags.read([change.node_id])
        live = current.value
        now = self.tags.now()
        if math.isclose(live, change.to_value, rel_tol=1e-9, abs_tol=1e-9):
            return self._result(change.node_id, live, change.to_value, live, True, now)
        if not math.isclose(live, change.from_value, rel_tol=1e-9, abs_tol=1e-9):
            raise GuardrailViolation(
                f"{change.node_id}: the proposal assumed {change.from_value:g} but the live value"
                f" is {live:g}; the premise changed and nothing was written"
            )
        limit.check(live, change.to_value)
        limit.check_interval(self._last_write.get(change.node_id), now)
        self.tags.set(change.node_id, change.to_value, now)
        self._last_write[change.node_id] = now
        (read_back,) = await self.tags.read([change.node_id])
        return self._result(change.node_id, live, change.to_value, read_back.value, False, now)

    @staticmethod
    def _result(
        node_id: str, before: float, written: float, read_back: float, already: bool, at: datetime
    ) -> WriteResult:
        return WriteResult(
            node_id=node_id, before=before, written=written, read_back=read_back,
            already_applied=already, at=at,
        )  # fmt: skip


class FakeMes:
    """A MesSource and MesWriter over in-memory ISA-95 records, with the SQL MES's rules.

    Time-stamped records (quality results, stops, counts, consumption) are filtered to the
    window asked for; writes are checked, idempotent on their action id, and visible in reads.
    """

    def __init__(self, data: MesData, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.data = data
        self._clock = clock
        self._holds: dict[str, dict[str, LotStatus]] = {}  # action id -> lot -> status before
        self._released: set[str] = set()
        self._documents: dict[str, str] = {}  # action id -> reference
        self.dispatch_lists: dict[str, DispatchList] = {}
        self.load_plans: dict[str, LoadShift] = {}

    async def fetch(self, kinds: Sequence[MesKind], since: datetime, until: datetime) -> MesData:
        """The records of `kinds`; time-stamped ones in [since, until]."""
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("MES fetch times must be timezone-aware (UTC)")
        known = set(MesData.model_fields) - {"read_at"}
        unknown = sorted(set(kinds) - known)
        if unknown:
            raise ConnectorError(f"the MES cannot read {unknown}; known kinds: {sorted(known)}")
        d = self.data
        window: dict[str, tuple[Any, ...]] = {
            "quality_results": tuple(
                q for q in d.quality_results if since <= q.sampled_at <= until
            ),
            "consumption": tuple(c for c in d.consumption if since <= c.at <= until),
            "downtime": tuple(
                s for s in d.downtime
                if s.started_at <= until and (s.ended_at is None or s.ended_at >= since)
            ),
            "production_counts": tuple(
                p for p in d.production_counts if p.end >= since and p.start <= until
            ),
        }  # fmt: skip
        found = {kind: window.get(kind, getattr(d, kind)) for kind in kinds}
        return MesData(read_at=until, **found)

    async def hold_lots(self, action: LotHold) -> MesWriteResult:
        """Put the lots on hold."""
        reference = f"HOLD-{action.action_id}"
        if action.action_id in self._holds:
            return self._result(action.action_id, reference, True, "already on hold")
        lots = {lot.id: lot for lot in self.data.lots}
        missing = [i for i in action.lot_ids if i not in lots]
        if missing:
            raise WriteRejected(f"the MES knows no lot {', '.join(missing)}; nothing was held")
        illegal = [
            f"{i} ({lots[i].status})" for i in action.lot_ids if lots[i].status not in HOLDABLE
        ]
        if illegal:
            raise WriteRejected(
                f"lots {', '.join(illegal)} cannot be put on hold: only released or quarantine"
                " lots can; nothing was held"
            )
        self._holds[action.action_id] = {i: lots[i].status for i in action.lot_ids}
        self._set_status({i: LotStatus.HOLD for i in action.lot_ids})
        return self._result(action.action_id, reference, False, f"{len(action.lot_ids)} held")

    async def release_lots(self, action: LotHold, reason: str) -> MesWriteResult:
        """Give the lots this action held back their status, unless changed since."""
        reference = f"RELEASE-{action.action_id}"
        if action.action_id in self._released:
            return self._result(action.action_id, reference, True, "lots already released")
        held = self._holds.get(action.action_id)
        if not held:
            raise WriteRejected(
                f"action {action.action_id} held no lots, so there is nothing to release"
            )
        status = {lot.id: lot.status for lot in self.data.lots}
        back = {i: before for i, before in held.items() if status.get(i) is LotStatus.HOLD}
        self._set_status(back)
        self._released.add(action.action_id)
        return self._result(action.action_id, reference, False, f"released {len(back)} lot(s)")

    async def create_purchase_requisition(self, action: PurchaseRequisition) -> MesWriteResult:
        """Create a purchase requisition for a known material and supplier, in its unit."""
        if action.action_id in self._documents:
            return self._again(action.action_id)
        if not (math.isfinite(action.quantity) and action.quantity > 0):
            raise WriteRejected(f"the quantity {action.quantity:g} is not a positive number")
        material = next((m for m in self.data.materials if m.id == action.material_id), None)
        if material is None:
            raise WriteRejected(f"the MES knows no material {action.material_id}")
        if material.unit != action.unit:
            raise WriteRejected(
                f"{material.id} is kept in {material.unit}, but the requisition is in {action.unit}"
            )
        if action.supplier not in {s.id for s in self.data.suppliers}:
            raise WriteRejected(f"the MES knows no supplier {action.supplier}")
        now = self._clock()
        if action.need_by <= now:
            raise WriteRejected(f"the requisition is needed by {action.need_by}, which has passed")
        number = f"PR-{len(self.data.purchase_orders) + 1:05d}"
        order = PurchaseOrder(
            id=number, material_id=material.id, supplier_id=action.supplier,
            quantity=action.quantity, unit=action.unit, status="requested", ordered_at=now,
            expected_at=action.need_by,
        )  # fmt: skip
        self._add("purchase_orders", order)
        return self._created(action.action_id, number, f"requisition {number}")

    async def publish_dispatch_list(self, action: DispatchList) -> MesWriteResult:
        """Publish a dispatch list for a line, checking its operations."""
        if action.action_id in self._documents:
            return self._again(action.action_id)
        equipment = {e.id for e in self.data.equipment}
        orders = {w.id for w in self.data.work_orders}
        runs_on = {(o.work_order_id, o.sequence): o.equipment_id for o in self.data.operations}
        for name, wanted, known in (
            ("line", [action.line_id], equipment),
            ("equipment", [e.equipment_id for e in action.entries], equipment),
            ("work order", [e.work_order_id for e in action.entries], orders),
        ):
            missing = sorted(set(wanted) - known)
            if missing:
                raise WriteRejected(f"the MES knows no {name} {', '.join(missing)}")
        for entry in action.entries:
            planned = runs_on.get((entry.work_order_id, entry.operation))
            if planned != entry.equipment_id:
                raise WriteRejected(
                    f"{entry.work_order_id} operation {entry.operation} runs on {planned},"
                    f" not {entry.equipment_id}"
                )
        number = f"DL-{action.action_id[:20]}"
        self.dispatch_lists[number] = action
        return self._created(action.action_id, number, f"dispatch list {number}")

    async def create_maintenance_order(self, action: MaintenanceWorkOrder) -> MesWriteResult:
        """Create a maintenance work order for known equipment."""
        if action.action_id in self._documents:
            return self._again(action.action_id)
        if action.equipment_id not in {e.id for e in self.data.equipment}:
            raise WriteRejected(f"the MES knows no equipment {action.equipment_id}")
        number = f"MWO-{len(self.data.maintenance_orders) + 1:05d}"
        order = MaintenanceOrder(
            id=number, equipment_id=action.equipment_id, description=action.description,
            due_by=action.due_by, priority=action.priority, created_at=self._clock(),
        )  # fmt: skip
        self._add("maintenance_orders", order)
        return self._created(action.action_id, number, f"maintenance work order {number}")

    async def publish_load_plan(self, action: LoadShift) -> MesWriteResult:
        """Publish a load plan for a site."""
        if action.action_id in self._documents:
            return self._again(action.action_id)
        number = f"LP-{action.action_id[:20]}"
        self.load_plans[number] = action
        return self._created(action.action_id, number, f"load plan {number}")

    def _set_status(self, status: dict[str, LotStatus]) -> None:
        lots = tuple(
            lot.model_copy(update={"status": status[lot.id]}) if lot.id in status else lot
            for lot in self.data.lots
        )
        self.data = self.data.model_copy(update={"lots": lots})

    def _add(self, kind: str, record: Any) -> None:
        self.data = self.data.model_copy(update={kind: (*getattr(self.data, kind), record)})

    def _created(self, action_id: str, reference: str, summary: str) -> MesWriteResult:
        self._documents[action_id] = reference
        return self._result(action_id, reference, False, summary)

    def _again(self, action_id: str) -> MesWriteResult:
        reference = self._documents[action_id]
        return self._result(action_id, reference, True, f"{reference} exists already")

    def _result(
        self, action_id: str, reference: str, already: bool, summary: str
    ) -> MesWriteResult:
        return MesWriteResult(
            action_id=action_id, reference=reference, already_applied=already, summary=summary,
            at=self._clock(),
        )  # fmt: skip
