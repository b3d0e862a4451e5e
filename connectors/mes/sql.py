"""An MES reached through its SQL database (SQLAlchemy): the MesSource and MesWriter ports.

By default it reads and writes the reference ISA-95 schema (connectors/mes/schema.py), which
the simulated plant seeds; with a mapping (connectors/mes/mapping.py) it reads an existing
MES schema, and writes where the mapping says how. Each call runs in a worker thread in one
transaction; database errors become ConnectorError (worth retrying), refusals WriteRejected
(final), a mapping that does not fit the database ConfigurationError.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from connectors.base import MesWriteResult
from connectors.mes import sql_read, sql_write
from connectors.mes.mapping import (
    REFERENCE_MAPPING,
    MappedSchema,
    MesMapping,
    check_mapping,
    load_mapping,
)
from connectors.mes.schema import MesBase
from factory_agents.actions import (
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
)
from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.isa95 import MesData, MesKind

T = TypeVar("T")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class SqlMes:
    """The MES database at a SQLAlchemy URL, in the reference schema or through a mapping.

    A mapping (a MesMapping or the path of its YAML file) is checked against the database
    on first use: missing tables or columns are one ConfigurationError naming them all.

    Example::

        mes = SqlMes("sqlite:///.factory/mes.db")
        data = await mes.fetch(["lots", "quality_results"], since, until)
        legacy = SqlMes("postgresql+psycopg://mes@db/mes", mapping="mes-mapping.yaml")
    """

    def __init__(
        self,
        url: str,
        *,
        mapping: MesMapping | str | Path | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self._clock = clock
        if mapping is None:
            self.mapping = REFERENCE_MAPPING
            self._schema = MappedSchema(REFERENCE_MAPPING, MesBase.metadata.tables)
        else:
            self.mapping = mapping if isinstance(mapping, MesMapping) else load_mapping(mapping)
            self._schema = MappedSchema(self.mapping)
        self._checked = mapping is None
        self._check_lock = threading.Lock()
        self._engine = mes_engine(url)

    def close(self) -> None:
        """Close the database connections."""
        self._engine.dispose()

    async def fetch(self, kinds: Sequence[MesKind], since: datetime, until: datetime) -> MesData:
        """The records of `kinds`; events in [since, until]."""
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("MES fetch times must be timezone-aware (UTC)")
        return await self._run(
            f"read {', '.join(kinds)}",
            lambda c: sql_read.fetch(c, self._schema, kinds, since, until),
        )

    async def check(self) -> None:
        """Check the mapping against the database now (otherwise done on first use)."""
        self._checked = False
        await self._run("check the mapping", lambda c: None)

    async def hold_lots(self, action: LotHold) -> MesWriteResult:
        """Put the lots on hold."""
        return await self._write(
            "hold lots", lambda c, now: sql_write.hold_lots(c, self._schema, action, now)
        )

    async def release_lots(self, action: LotHold, reason: str) -> MesWriteResult:
        """Undo a hold this action placed."""
        return await self._write(
            "release lots",
            lambda c, now: sql_write.release_lots(c, self._schema, action, reason, now),
        )

    async def create_purchase_requisition(self, action: PurchaseRequisition) -> MesWriteResult:
        """Create a purchase requisition."""
        return await self._write(
            "create a purchase requisition",
            lambda c, now: sql_write.create_purchase_requisition(c, self._schema, action, now),
        )

    async def publish_dispatch_list(self, action: DispatchList) -> MesWriteResult:
        """Publish a dispatch list for a line."""
        return await self._write(
            "publish a dispatch list",
            lambda c, now: sql_write.publish_dispatch_list(c, self._schema, action, now),
        )

    async def create_maintenance_order(self, action: MaintenanceWorkOrder) -> MesWriteResult:
        """Create a maintenance work order."""
        return await self._write(
            "create a maintenance work order",
            lambda c, now: sql_write.create_maintenance_order(c, self._schema, action, now),
        )

    async def publish_load_plan(self, action: LoadShift) -> MesWriteResult:
        """Publish a load plan for a site."""
        return await self._write(
            "publish a load plan",
            lambda c, now: sql_write.publish_load_plan(c, self._schema, action, now),
        )

    async def _write(
        self, doing: str, work: Callable[[Connection, datetime], MesWriteResult]
    ) -> MesWriteResult:
        now = self._clock()
        return await self._run(doing, lambda connection: work(connection, now))

    async def _run(self, doing: str, work: Callable[[Connection], T]) -> T:
        def transaction() -> T:
            self._check_once()
            with self._engine.begin() as connection:
                return work(connection)

        try:
            return await asyncio.to_thread(transaction)
        except SQLAlchemyError as err:
            raise ConnectorError(
                f"could not {doing} in the MES at {self._where()}: {err}. Check that the"
                " database is reachable and not locked; the call can be retried safely"
            ) from err

    def _check_once(self) -> None:
        """Check the mapping against the database the first time it is used."""
        if self._checked:
            return
        with self._check_lock:
            if not self._checked:
                check_mapping(self._engine, self.mapping)
                self._checked = True

    def _where(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)


def mes_engine(url: str) -> Engine:
    """An engine for the MES; SQLite gets WAL mode and a busy timeout, PostgreSQL UTC sessions."""
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ValueError) as err:
        raise ConfigurationError(
            f"cannot use MES database URL {url!r}: {err}. Give a SQLAlchemy URL such as"
            " sqlite:///path/mes.db or postgresql+psycopg://user@host/mes"
        ) from err
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect", insert=True)
        def _utc_session(dbapi_connection: Any, _record: Any) -> None:
            # Timestamps without a time zone in a mapped MES are UTC: make the session agree.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SET TIME ZONE 'UTC'")
            finally:
                cursor.close()
                dbapi_connection.autocommit = autocommit

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

    return engine
