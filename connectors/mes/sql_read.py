"""Reading ISA-95 records from the MES database through a mapping: one bounded query per kind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Select, false, or_, select

from connectors.mes.mapping import FIELDS, WRITE_ONLY_FIELDS, MappedKind, MappedSchema
from connectors.mes.records import RECORD_MODELS
from factory_agents.errors import ConnectorError, DataQualityError
from factory_agents.isa95 import MesData, MesKind

MAX_ROWS_PER_KIND = 100_000
"""A query returning more rows than this is refused: narrow the agent's MES look-back."""

OPEN_PURCHASE_ORDER = ("requested", "ordered")
OPEN_MAINTENANCE_ORDER = ("open", "planned", "in_progress")
FINISHED_WORK_ORDER = ("completed", "closed")

MODELS = RECORD_MODELS

_ORDER: dict[str, tuple[str, ...]] = {
    "equipment": ("id",),
    "materials": ("id",),
    "lots": ("id",),
    "work_orders": ("release_at", "id"),
    "operations": ("work_order_id", "sequence"),
    "suppliers": ("id",),
    "purchase_orders": ("ordered_at", "id"),
    "quality_results": ("sampled_at", "id"),
    "downtime": ("started_at", "id"),
    "production_counts": ("start",),
    "consumption": ("at",),
    "maintenance_orders": ("created_at", "id"),
}
_FALLBACK_ORDER: dict[str, tuple[str, ...]] = {
    "inventory": ("lot_id", "location"),
    "bom": ("product_id", "material_id"),
    "production_counts": ("equipment_id",),
    "consumption": ("material_id",),
}
"""Used when the mapping gives no order_by, so reads come back in a stable order."""


def fetch(
    connection: Connection,
    schema: MappedSchema,
    kinds: Sequence[MesKind],
    since: datetime,
    until: datetime,
) -> MesData:
    """The records of `kinds`; events (results, stops, counts, consumption) in [since, until]."""
    readable = [k for k in MODELS if k in schema.kinds]
    unknown = sorted(set(kinds) - set(readable))
    if unknown:
        raise ConnectorError(f"the MES cannot read {unknown}; known kinds: {sorted(readable)}")
    found: dict[str, Any] = {"read_at": until}
    for kind in dict.fromkeys(kinds):
        mapped = schema.kinds[kind]
        query = _query(schema, mapped, since, until)
        rows = connection.execute(query.limit(MAX_ROWS_PER_KIND + 1)).mappings().all()
        if len(rows) > MAX_ROWS_PER_KIND:
            raise ConnectorError(
                f"the MES returned more than {MAX_ROWS_PER_KIND} {kind} records between"
                f" {since:%F %T} and {until:%F %T} UTC; shorten the agent's MES look-back"
            )
        found[kind] = tuple(to_record(mapped, dict(row)) for row in rows)
    return MesData(**found)


def to_record(mapped: MappedKind, row: dict[str, Any]) -> Any:
    """The ISA-95 record of one row keyed by field name, translated through the value maps."""
    fields = {f.name: f for f in FIELDS[mapped.name]}
    values: dict[str, Any] = {}
    for field, raw in row.items():
        if field in WRITE_ONLY_FIELDS:
            continue
        value = mapped.mapping.to_isa95(field, raw)
        if value is None and not fields[field].required:
            continue  # let the model's default apply
        if fields[field].type == "json" and isinstance(value, list):
            value = tuple(value)
        values[field] = value
    try:
        return MODELS[mapped.name].model_validate(values)
    except ValidationError as err:
        key = values.get("id", values.get("lot_id", ""))
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()[:5]
        )
        raise DataQualityError(
            f"the MES {mapped.name} record {key} in {mapped.table.name} is not valid: {problems}."
            " Fix the record in the MES, or the mapping's columns and values"
        ) from err


def _query(
    schema: MappedSchema, mapped: MappedKind, since: datetime, until: datetime
) -> Select[Any]:
    """The SELECT for one kind: every mapped field labelled by its name, window and order."""
    query = select(*(mapped.column(f).label(f) for f in mapped.mapping.columns)).where(
        *mapped.filters()
    )
    window = _WINDOWS.get(mapped.name)
    if window is not None:
        query = window(schema, mapped, query, since, until)
    order = [mapped.column(f) for f in _ORDER.get(mapped.name, ()) if mapped.has(f)]
    order += [mapped.table.c[c] for c in mapped.mapping.order_by]
    if not mapped.mapping.order_by:
        order += [mapped.column(f) for f in _FALLBACK_ORDER.get(mapped.name, ()) if mapped.has(f)]
    return query.order_by(*order)


def _status_in(mapped: MappedKind, field: str, wanted: Sequence[str]) -> Any:
    """A condition: the field's column holds a code meaning one of `wanted`."""
    if not mapped.has(field):
        return false()
    return mapped.column(field).in_(mapped.mapping.codes_for(field, wanted))


def _not_finished(orders: MappedKind, since: datetime) -> Any:
    """Work orders still open, or due inside the window."""
    finished = orders.mapping.codes_for("status", FINISHED_WORK_ORDER)
    return or_(orders.column("status").not_in(finished), orders.column("due_at") >= since)


def _work_orders(
    schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
) -> Select[Any]:
    return query.where(_not_finished(mapped, s))


def _operations(
    schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
) -> Select[Any]:
    orders = schema.kinds["work_orders"]
    joined = mapped.table.join(orders.table, orders.column("id") == mapped.column("work_order_id"))
    return query.select_from(joined).where(_not_finished(orders, s), *orders.filters())


def _purchase_orders(
    schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
) -> Select[Any]:
    return query.where(
        or_(_status_in(mapped, "status", OPEN_PURCHASE_ORDER), mapped.column("ordered_at") >= s)
    )


def _between(field: str) -> _Window:
    def window(
        schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
    ) -> Select[Any]:
        column = mapped.column(field)
        return query.where(column >= s, column <= u)

    return window


def _downtime(
    schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
) -> Select[Any]:
    if mapped.has("ended_at"):
        ended = or_(mapped.column("ended_at").is_(None), mapped.column("ended_at") >= s)
    else:
        ended = mapped.column("started_at") >= s
    return query.where(mapped.column("started_at") <= u, ended)


def _production_counts(
    schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
) -> Select[Any]:
    return query.where(mapped.column("end") >= s, mapped.column("start") <= u)


def _maintenance_orders(
    schema: MappedSchema, mapped: MappedKind, query: Select[Any], s: datetime, u: datetime
) -> Select[Any]:
    return query.where(
        or_(
            _status_in(mapped, "status", OPEN_MAINTENANCE_ORDER),
            mapped.column("created_at") >= s,
        )
    )


_Window = Callable[[MappedSchema, MappedKind, Select[Any], datetime, datetime], Select[Any]]

_WINDOWS: dict[str, _Window] = {
    "work_orders": _work_orders,
    "operations": _operations,
    "purchase_orders": _purchase_orders,
    "quality_results": _between("sampled_at"),
    "downtime": _downtime,
    "production_counts": _production_counts,
    "consumption": _between("at"),
    "maintenance_orders": _maintenance_orders,
}
