"""A locked MES database during a write: the write waits or fails retryably, and a retry
never makes a second record."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.mes import SqlMes
from connectors.simulator.mes import seed_mes
from connectors.simulator.mes_data import MES_ANCHOR
from factory_agents.actions import PurchaseRequisition
from factory_agents.errors import ConnectorError

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60)]

NOW = MES_ANCHOR + timedelta(hours=1)
REQUEST = PurchaseRequisition(
    action_id="a-pr-chaos", material_id="RM-CAP-28", quantity=40_000, unit="pcs",
    supplier="bericap", need_by=NOW + timedelta(days=5),
)  # fmt: skip


@pytest.fixture
def mes_file(tmp_path: Path) -> Path:
    """A seeded SQLite MES."""
    path = tmp_path / "mes.db"
    seed_mes(f"sqlite:///{path}", seed=7)
    return path


@pytest.fixture
def mes(mes_file: Path) -> Iterator[SqlMes]:
    """The connector on that MES, its clock an hour after the seed's anchor."""
    connector = SqlMes(f"sqlite:///{mes_file}", clock=lambda: NOW)
    try:
        yield connector
    finally:
        connector.close()


def lock(path: Path) -> sqlite3.Connection:
    """Another program holding the MES database's write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def requisitions(path: Path) -> int:
    """Purchase orders in the MES that came from REQUEST."""
    with sqlite3.connect(path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM purchase_orders WHERE material_id = ? AND quantity = ?",
            (REQUEST.material_id, REQUEST.quantity),
        ).fetchone()
    return int(count)


async def test_a_lock_held_past_the_busy_timeout_is_a_retryable_error_and_the_retry_writes_once(
    mes: SqlMes, mes_file: Path
) -> None:
    before = requisitions(mes_file)
    holder = lock(mes_file)
    try:
        with pytest.raises(ConnectorError, match="retried"):
            await mes.create_purchase_requisition(REQUEST)
    finally:
        holder.rollback()
        holder.close()
    assert requisitions(mes_file) == before, "the failed write left nothing behind"
    retried = await mes.create_purchase_requisition(REQUEST)
    again = await mes.create_purchase_requisition(REQUEST)
    assert (retried.already_applied, again.already_applied) == (False, True)
    assert requisitions(mes_file) == before + 1


async def test_a_lock_released_within_the_busy_timeout_only_delays_the_write(
    mes: SqlMes, mes_file: Path
) -> None:
    before = requisitions(mes_file)
    holder = lock(mes_file)
    release = asyncio.get_running_loop().call_later(1.0, holder.rollback)
    try:
        result = await mes.create_purchase_requisition(REQUEST)
    finally:
        release.cancel()
        holder.close()
    assert not result.already_applied
    assert requisitions(mes_file) == before + 1
