"""How an existing MES database's tables map onto the ISA-95 records agents read (a YAML file).

The SQL MES connector (SqlMes) reads, and where the mapping says how, writes through a
mapping. Without one it uses `REFERENCE_MAPPING`, the reference schema of
connectors/mes/schema.py that the simulated plant seeds. A mapping file names, for each kind
of record, the table it lives in and the column holding each field; it may translate codes
(`values`), keep only some rows (`filter`), set columns on the rows it inserts (`defaults`)
and order rows (`order_by`). Kinds left out cannot be read (a fetch asking for them is
refused); optional fields left out read as their default.

Example (``mes-mapping.yaml``, for an MES that keeps lots with one-letter status codes)::

    version: 1
    schema: mes            # optional: the database schema the tables live in
    kinds:
      materials:
        table: MAT_MASTER
        columns: {id: MATNR, name: MAKTX, kind: MTART, unit: MEINS, unit_cost: STPRS}
        values:
          kind: {FERT: finished_good, ROH: raw_material, VERP: packaging}
      lots:
        table: T_LOT
        columns:
          id: LOT_NO
          material_id: MATNR
          quantity: QTY
          unit: UOM
          status: STAT
          created_at: CREATED
        values:
          status: {R: released, Q: quarantine, H: hold, B: blocked, C: consumed}
        filter: {PLANT: P100}          # only this plant's lots (and set on rows inserted)
      lot_status_changes:              # needed to hold and release lots (the idempotency log)
        table: T_LOT_LOG
        columns:
          lot_id: LOT_NO
          from_status: OLD_STAT
          to_status: NEW_STAT
          external_key: ACTION_ID
          reason: REMARK
          at: CHANGED
      purchase_orders:                 # map external_key to create purchase requisitions
        table: T_PO
        columns: {id: PO_NO, material_id: MATNR, supplier_id: LIFNR, quantity: MENGE,
                  unit: MEINS, status: STAT, ordered_at: BEDAT, expected_at: EINDT,
                  external_key: EXT_KEY}
        values:
          status: {REQ: requested, ORD: ordered, REC: received, CAN: cancelled}
        defaults: {PO_TYPE: NB}        # columns the MES needs on every inserted row
        order_by: [PO_NO]

Fields by kind (`?` = optional): see `FIELDS`. The write-only kinds are
`lot_status_changes` (hold and release lots), `dispatch_lists` (publish dispatch lists; with
`operations.planned_start`/`planned_end` mapped), `load_plans` (publish load plans), and
the `external_key` field of `purchase_orders` and `maintenance_orders` (create requisitions
and maintenance orders): each write keeps its action id there, which is what makes it
idempotent. A write whose tables the mapping lacks is refused with a ConfigurationError.

Loading checks the file's structure (`load_mapping`); `check_mapping` then reflects the
database and lists every missing table and column in one ConfigurationError. Timestamps
stored without a time zone are read and written as UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    inspect,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import NullType, TypeEngine

from factory_agents.errors import ConfigurationError, ConnectorError
from factory_agents.sqltypes import UtcDateTime

FieldType = Literal["str", "int", "float", "bool", "decimal", "datetime", "json"]


@dataclass(frozen=True)
class FieldDef:
    """One field of a record kind: its name, type and whether a mapping may leave it out."""

    name: str
    type: FieldType
    required: bool


def _fields(spec: str) -> tuple[FieldDef, ...]:
    """Parse 'name:type name:type? ...' into field definitions."""
    out: list[FieldDef] = []
    for item in spec.split():
        name, kind = item.split(":")
        optional = kind.endswith("?")
        field_type: Any = kind.rstrip("?")
        out.append(FieldDef(name, field_type, not optional))
    return tuple(out)


FIELDS: dict[str, tuple[FieldDef, ...]] = {
    "equipment": _fields("id:str name:str level:str parent_id:str?"),
    "materials": _fields("id:str name:str kind:str unit:str unit_cost:decimal currency:str?"),
    "lots": _fields(
        "id:str material_id:str quantity:float unit:str status:str supplier:str?"
        " work_order_id:str? created_at:datetime expires_at:datetime?"
    ),
    "inventory": _fields(
        "material_id:str lot_id:str location:str quantity:float unit:str updated_at:datetime"
    ),
    "work_orders": _fields(
        "id:str product_id:str line_id:str quantity:int quantity_done:int? priority:int?"
        " status:str release_at:datetime due_at:datetime"
    ),
    "operations": _fields(
        "work_order_id:str sequence:int equipment_id:str duration_minutes:float"
        " setup_minutes:float? planned_start:datetime? planned_end:datetime? status:str?"
    ),
    "bom": _fields(
        "product_id:str material_id:str quantity_per_unit:float unit:str alternatives:json?"
    ),
    "suppliers": _fields("id:str name:str"),
    "purchase_orders": _fields(
        "id:str material_id:str supplier_id:str quantity:float unit:str status:str"
        " ordered_at:datetime expected_at:datetime received_at:datetime? external_key:str?"
    ),
    "quality_results": _fields(
        "id:int work_order_id:str lot_id:str? equipment_id:str characteristic:str value:float"
        " unit:str lsl:float usl:float passed:bool sampled_at:datetime comment:str?"
    ),
    "downtime": _fields(
        "id:int equipment_id:str started_at:datetime ended_at:datetime? reason_code:str"
        " reason:str planned:bool"
    ),
    "production_counts": _fields(
        "equipment_id:str work_order_id:str? start:datetime end:datetime good:int scrap:int"
        " rework:int?"
    ),
    "consumption": _fields(
        "material_id:str lot_id:str? work_order_id:str? quantity:float unit:str at:datetime"
    ),
    "maintenance_orders": _fields(
        "id:str equipment_id:str description:str due_by:datetime priority:int? status:str?"
        " created_at:datetime external_key:str?"
    ),
    "lot_status_changes": _fields(
        "lot_id:str from_status:str to_status:str external_key:str reason:str at:datetime"
    ),
    "dispatch_lists": _fields(
        "id:str line_id:str entries:json status:str published_at:datetime replaces:str?"
        " external_key:str"
    ),
    "load_plans": _fields(
        "id:str site_id:str plans:json status:str published_at:datetime external_key:str"
    ),
}
"""Every kind a mapping may name, with its fields; the last three are only written."""

WRITE_ONLY_KINDS = ("lot_status_changes", "dispatch_lists", "load_plans")
WRITE_ONLY_FIELDS = ("external_key",)
"""Fields kept for idempotent writes, not part of the ISA-95 record agents read."""

_TYPES: dict[FieldType, TypeEngine[Any]] = {
    "str": String(),
    "int": Integer(),
    "float": Float(),
    "bool": Boolean(),
    "decimal": Numeric(18, 6, asdecimal=True),
    "datetime": UtcDateTime(),
    "json": JSON(),
}

Scalar = str | int | float | bool | None


class KindMapping(BaseModel):
    """Where one kind of record lives: table, column per field, code translation, filters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table: str = Field(min_length=1)
    columns: dict[str, str]
    values: dict[str, dict[Scalar, Scalar]] = Field(default_factory=dict)
    filter: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    defaults: dict[str, Scalar] = Field(default_factory=dict)
    order_by: tuple[str, ...] = ()

    def to_isa95(self, field: str, raw: Any) -> Any:
        """The ISA-95 value of a field's column value, through its value map if it has one."""
        return decode(self.values.get(field), raw, f"{self.table}.{self.columns[field]}")

    def to_db(self, field: str, value: Any) -> Any:
        """The column value for an ISA-95 value: the first code listed for it, if mapped."""
        return encode(self.values.get(field), value, f"{self.table}.{self.columns[field]}")

    def codes_for(self, field: str, values: Iterable[Any]) -> list[Any]:
        """Every column value meaning one of `values` (all codes mapping to them)."""
        wanted = list(values)
        codes = self.values.get(field)
        if codes is None:
            return wanted
        return [code for code, mapped in codes.items() if mapped in wanted]


def decode(codes: Mapping[Scalar, Scalar] | None, raw: Any, where: str) -> Any:
    """The ISA-95 value a column value means under `codes` (unchanged without codes)."""
    if codes is None or raw is None:
        return raw
    if raw in codes:
        return codes[raw]
    text = str(raw).strip()
    for code, value in codes.items():
        if str(code) == text:
            return value
    raise ConfigurationError(
        f"{where} holds {raw!r}, which the mapping's values do not list"
        f" ({sorted(map(str, codes))}); add it to the mapping"
    )


def encode(codes: Mapping[Scalar, Scalar] | None, value: Any, where: str) -> Any:
    """The column value for an ISA-95 value under `codes`: the first code listed for it."""
    if codes is None or value is None:
        return value
    for code, mapped in codes.items():
        if mapped == value:
            return code
    raise ConfigurationError(
        f"the mapping's values for {where} have no code for {value!r}; add one so the"
        " connector can write it"
    )


class MesMapping(BaseModel):
    """A whole mapping file: an optional database schema and one KindMapping per kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    schema_name: str | None = Field(None, alias="schema")
    kinds: dict[str, KindMapping]

    def kind(self, name: str) -> KindMapping | None:
        """The mapping of one kind, or None when the file leaves it out."""
        return self.kinds.get(name)

    def problems(self) -> list[str]:
        """What is wrong with the mapping itself, without looking at a database."""
        found: list[str] = []
        for name, kind in self.kinds.items():
            if name not in FIELDS:
                found.append(f"unknown kind {name!r} (known: {', '.join(FIELDS)})")
                continue
            fields = {f.name: f for f in FIELDS[name]}
            unknown = sorted(set(kind.columns) - set(fields))
            if unknown:
                found.append(f"{name}: unknown fields {unknown} (known: {', '.join(fields)})")
            missing = [f.name for f in fields.values() if f.required and f.name not in kind.columns]
            if missing:
                found.append(f"{name}: required fields {missing} have no column")
            unmapped = sorted(set(kind.values) - set(kind.columns))
            if unmapped:
                found.append(f"{name}: values given for fields without a column: {unmapped}")
        if "operations" in self.kinds and "work_orders" not in self.kinds:
            found.append("operations: reading them needs work_orders mapped too")
        return found


def mapping_from_dict(data: Mapping[str, Any], source: str = "the MES mapping") -> MesMapping:
    """A checked MesMapping from plain data; every problem in one ConfigurationError."""
    try:
        mapping = MesMapping.model_validate(data)
    except ValidationError as err:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        raise ConfigurationError(
            f"{source} is not a valid MES mapping:\n  " + "\n  ".join(lines)
        ) from err
    problems = mapping.problems()
    if problems:
        raise ConfigurationError(
            f"{source} is not a valid MES mapping:\n  " + "\n  ".join(problems)
        )
    return mapping


def load_mapping(path: str | Path) -> MesMapping:
    """Read a YAML mapping file; unreadable or invalid files are a ConfigurationError."""
    try:
        import yaml
    except ImportError as err:  # pragma: no cover - pyyaml is a dependency
        raise ConfigurationError(
            "reading MES mapping files needs PyYAML: pip install pyyaml"
        ) from err
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigurationError(f"cannot read the MES mapping {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigurationError(f"the MES mapping {path} is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigurationError(f"the MES mapping {path} must be a YAML mapping with `kinds:`")
    return mapping_from_dict(data, str(path))


def _reference() -> MesMapping:
    """The identity mapping onto the reference schema (connectors/mes/schema.py)."""
    tables = {
        "equipment": "equipment",
        "materials": "materials",
        "lots": "lots",
        "inventory": "inventory_positions",
        "work_orders": "work_orders",
        "operations": "operations",
        "bom": "bom_lines",
        "suppliers": "suppliers",
        "purchase_orders": "purchase_orders",
        "quality_results": "quality_results",
        "downtime": "downtime_events",
        "production_counts": "production_counts",
        "consumption": "material_consumption",
        "maintenance_orders": "maintenance_orders",
        "lot_status_changes": "lot_status_changes",
        "dispatch_lists": "dispatch_lists",
        "load_plans": "load_plans",
    }
    order_by = {
        "inventory": ("id",),
        "bom": ("id",),
        "production_counts": ("id",),
        "consumption": ("id",),
        "lot_status_changes": ("id",),
    }
    kinds = {
        kind: KindMapping(
            table=table,
            columns={f.name: f.name for f in FIELDS[kind]},
            order_by=order_by.get(kind, ()),
        )
        for kind, table in tables.items()
    }
    return MesMapping(kinds=kinds)


REFERENCE_MAPPING = _reference()
"""The reference schema, which the simulated plant seeds: every kind, every write."""


@dataclass(frozen=True)
class MappedKind:
    """One mapped kind, ready for queries: its mapping, a Core table, a column per field."""

    name: str
    mapping: KindMapping
    table: Table

    def column(self, field: str) -> Column[Any]:
        """The table column holding `field`."""
        return self.table.c[self.mapping.columns[field]]

    def has(self, field: str) -> bool:
        """Whether the mapping gives `field` a column."""
        return field in self.mapping.columns

    def filters(self) -> list[Any]:
        """The WHERE conditions of the kind's filter."""
        conditions: list[Any] = []
        for name, wanted in self.mapping.filter.items():
            column = self.table.c[name]
            conditions.append(column.in_(wanted) if isinstance(wanted, list) else column == wanted)
        return conditions

    def insert_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Column values for a new row from ISA-95 field values, with defaults and filters."""
        row: dict[str, Any] = dict(self.mapping.defaults)
        for name, wanted in self.mapping.filter.items():
            if not isinstance(wanted, list):
                row[name] = wanted
        for field, value in values.items():
            if self.has(field):
                row[self.mapping.columns[field]] = self.mapping.to_db(field, value)
        return row


class MappedSchema:
    """A mapping turned into SQLAlchemy Core tables, one per mapped kind.

    `tables` gives ready-made tables by name (the reference schema's own, so its column
    types are used exactly); other tables are built from the field types.
    """

    def __init__(self, mapping: MesMapping, tables: Mapping[str, Table] | None = None) -> None:
        self.mapping = mapping
        self.metadata = MetaData(schema=mapping.schema_name)
        self.kinds: dict[str, MappedKind] = {}
        ready = dict(tables or {})
        built: dict[str, Table] = {}
        for name, kind in mapping.kinds.items():
            if kind.table in ready:
                self.kinds[name] = MappedKind(name, kind, ready[kind.table])
                continue
            table = built.get(kind.table)
            if table is None:
                table = built[kind.table] = Table(kind.table, self.metadata)
            types = {f.name: f.type for f in FIELDS[name]}
            for field, column in kind.columns.items():
                typed = NullType() if field in kind.values else _TYPES[types[field]]
                _add_column(table, column, typed)
            for column in (*kind.filter, *kind.defaults, *kind.order_by):
                _add_column(table, column, NullType())
            self.kinds[name] = MappedKind(name, kind, table)

    def get(self, name: str) -> MappedKind | None:
        """The mapped kind, or None."""
        return self.kinds.get(name)

    def require(self, doing: str, *names: str, fields: Mapping[str, Iterable[str]] = {}) -> None:
        """Raise ConfigurationError unless the kinds (and fields) needed for `doing` are mapped."""
        missing = [name for name in names if name not in self.kinds]
        for name, wanted in fields.items():
            kind = self.kinds.get(name)
            if kind is not None:
                missing += [f"{name}.{f}" for f in wanted if not kind.has(f)]
        if missing:
            raise ConfigurationError(
                f"cannot {doing} through this MES mapping: it does not map {', '.join(missing)}."
                " Add them to the mapping file (see connectors/mes/mapping.py), or use the"
                " reference schema or the REST connector"
            )


def _add_column(table: Table, name: str, column_type: TypeEngine[Any]) -> None:
    if name not in table.c:
        table.append_column(Column(name, column_type))


def check_mapping(engine: Engine, mapping: MesMapping) -> None:
    """Reflect the database and raise ConfigurationError listing every table or column missing."""
    try:
        inspector = inspect(engine)
        schema = mapping.schema_name
        existing = set(inspector.get_table_names(schema=schema))
        existing |= set(inspector.get_view_names(schema=schema))
        problems: list[str] = []
        columns_of: dict[str, set[str]] = {}
        for name, kind in mapping.kinds.items():
            if kind.table not in existing:
                hint = _did_you_mean(kind.table, existing)
                problems.append(f"{name}: table {kind.table!r} does not exist{hint}")
                continue
            if kind.table not in columns_of:
                columns_of[kind.table] = {
                    c["name"] for c in inspector.get_columns(kind.table, schema=schema)
                }
            have = columns_of[kind.table]
            wanted = [*kind.columns.values(), *kind.filter, *kind.defaults, *kind.order_by]
            for column in dict.fromkeys(wanted):
                if column not in have:
                    problems.append(
                        f"{name}: column {kind.table}.{column} does not exist"
                        f"{_did_you_mean(column, have)}"
                    )
    except SQLAlchemyError as err:
        where = engine.url.render_as_string(hide_password=True)
        raise ConnectorError(
            f"could not check the MES mapping against {where}: {err}. Check that the database"
            " is reachable; the check can be retried"
        ) from err
    if problems:
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigurationError(
            f"the MES mapping does not fit the database at {where}:\n  "
            + "\n  ".join(problems)
            + "\nFix the table and column names in the mapping file."
        )


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    for candidate in candidates:
        if candidate.lower() == name.lower():
            return f" (did you mean {candidate!r}? names are case-sensitive)"
    return ""
