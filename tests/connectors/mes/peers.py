"""The conformance suite's peer description of the seeded simulated MES."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, get_args

from connectors.mes import SqlMes
from connectors.simulator.mes_data import MES_ANCHOR
from connectors.testing import ConformancePeer, MesReadData, MesWriteData
from factory_agents.actions import DispatchEntry
from factory_agents.isa95 import LotStatus, MesData, MesKind
from factory_agents.site import LINE

SINCE = MES_ANCHOR - timedelta(days=7)
UNTIL = MES_ANCHOR + timedelta(hours=1)
ALL_KINDS: tuple[MesKind, ...] = get_args(MesKind)


async def seeded_data(url: str) -> MesData:
    """Everything the seeded MES at `url` holds in the suite's window."""
    mes = SqlMes(url)
    try:
        return await mes.fetch(ALL_KINDS, SINCE, UNTIL)
    finally:
        mes.close()


def seeded_peer(
    data: MesData, now: datetime, config: Mapping[str, Any], connector: Any = None
) -> ConformancePeer:
    """What the suite may rely on in the seeded MES; `now` is the connector's clock."""
    released = [lot.id for lot in data.lots if lot.status is LotStatus.RELEASED]
    consumed = next(lot.id for lot in data.lots if lot.status is LotStatus.CONSUMED)
    operation = next(op for op in data.operations if op.status == "planned")
    entry = DispatchEntry(
        work_order_id=operation.work_order_id, operation=operation.sequence,
        equipment_id=operation.equipment_id, start=now, end=now + timedelta(hours=1),
    )  # fmt: skip
    return ConformancePeer(
        config=config,
        connector=connector,
        mes=MesReadData(
            since=SINCE, until=UNTIL, kinds=tuple(k for k in ALL_KINDS if getattr(data, k))
        ),
        mes_writes=MesWriteData(
            now=now, holdable_lots=tuple(released[:2]), unholdable_lot=consumed,
            material_id="RM-CAP-28", material_unit="pcs", other_unit="kg",
            supplier_id="bericap", equipment_id=f"{LINE}.capper", line_id=LINE, dispatch=entry,
        ),
    )  # fmt: skip
