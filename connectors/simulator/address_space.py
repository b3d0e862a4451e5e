"""The simulated plant's OPC UA address space: Objects/Plant/Line1/<Machine>/<Tag> variables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server

from connectors.simulator.model import EXECUTE, LINE_NAME
from factory_agents.site import FILL_TARGET_G, MACHINES

UNECE_UNITS_URI = "http://www.opcfoundation.org/UA/units/un/cefact"


@dataclass(frozen=True)
class EngineeringUnit:
    """A UNECE unit (code, symbol, description) as OPC UA EngineeringUnits expects it."""

    code: str
    symbol: str
    description: str

    def to_ua(self) -> ua.EUInformation:
        """The EUInformation structure, UnitId computed from the UNECE code (OPC UA Part 8)."""
        unit_id = -1
        if self.code:
            unit_id = 0
            for char in self.code:
                unit_id = (unit_id << 8) | ord(char)
        return ua.EUInformation(
            NamespaceUri=UNECE_UNITS_URI,
            UnitId=unit_id,
            DisplayName=ua.LocalizedText(self.symbol),
            Description=ua.LocalizedText(self.description),
        )


GRAM = EngineeringUnit("GRM", "g", "gram")
NEWTON_METRE = EngineeringUnit("NU", "N·m", "newton metre")
KILOWATT_HOUR = EngineeringUnit("KWH", "kWh", "kilowatt hour")
DEGREE_CELSIUS = EngineeringUnit("CEL", "°C", "degree Celsius")
UNITS_PER_MINUTE = EngineeringUnit("", "units/min", "units per minute")


@dataclass(frozen=True)
class TagSpec:
    """One simulator variable: its path (the string NodeId), data type and metadata."""

    path: str
    variant_type: ua.VariantType
    initial: float | int | str
    unit: EngineeringUnit | None = None
    eu_range: tuple[float, float] | None = None
    historized: bool = False
    writable: bool = False

    @property
    def browse_name(self) -> str:
        """The last segment of the path, e.g. 'FillWeight'."""
        return self.path.rsplit(".", 1)[-1]


def machine_tags(machine: str) -> list[TagSpec]:
    """The variables every machine has, plus the filler's fill weight and its setpoint."""
    prefix = f"{LINE_NAME}.{machine}"
    tags = [
        TagSpec(f"{prefix}.State", ua.VariantType.String, EXECUTE),
        TagSpec(f"{prefix}.Speed", ua.VariantType.Double, 0.0, UNITS_PER_MINUTE, (0.0, 120.0)),
        TagSpec(f"{prefix}.Temperature", ua.VariantType.Double, 20.0, DEGREE_CELSIUS, (0.0, 100.0)),
        TagSpec(f"{prefix}.Energy", ua.VariantType.Double, 0.0, KILOWATT_HOUR),
        TagSpec(f"{prefix}.GoodCount", ua.VariantType.Int64, 0),
        TagSpec(f"{prefix}.ScrapCount", ua.VariantType.Int64, 0),
    ]
    if machine == "Filler":
        tags += [
            TagSpec(
                f"{prefix}.FillWeight",
                ua.VariantType.Double,
                FILL_TARGET_G,
                GRAM,
                (480.0, 520.0),
                historized=True,
            ),
            TagSpec(
                f"{prefix}.FillWeightSetpoint",
                ua.VariantType.Double,
                FILL_TARGET_G,
                GRAM,
                (490.0, 510.0),
                historized=True,
                writable=True,
            ),
        ]
    return tags


def line_tags() -> list[TagSpec]:
    """The line-level counters (historized)."""
    return [
        TagSpec(f"{LINE_NAME}.GoodCount", ua.VariantType.Int64, 0, historized=True),
        TagSpec(f"{LINE_NAME}.ScrapCount", ua.VariantType.Int64, 0, historized=True),
    ]


def all_tags() -> list[TagSpec]:
    """Every variable the simulator serves, line counters first, then machine by machine."""
    tags = line_tags()
    for machine in MACHINES:
        tags += machine_tags(machine)
    return tags


def string_node_id(identifier: str, namespace_index: int) -> ua.NodeId:
    """A string NodeId such as ns=2;s=Line1.GoodCount."""
    return ua.NodeId.from_string(f"ns={namespace_index};s={identifier}")


class PlantAddressSpace:
    """The created nodes, looked up by tag path (e.g. 'Line1.Filler.FillWeight')."""

    def __init__(self, namespace_index: int) -> None:
        self.namespace_index = namespace_index
        self.specs: dict[str, TagSpec] = {}
        self.nodes: dict[str, Node] = {}

    def node_id(self, path: str) -> ua.NodeId:
        """The NodeId of a tag path in the simulator's namespace."""
        return string_node_id(path, self.namespace_index)

    def historized(self) -> list[Node]:
        """The nodes whose value changes are kept in history."""
        return [self.nodes[path] for path, spec in self.specs.items() if spec.historized]


async def build_address_space(
    server: Server, namespace_index: int, extra: Sequence[TagSpec] = ()
) -> PlantAddressSpace:
    """Create Objects/Plant/Line1/<Machine> and every tag variable (and the scenarios')."""
    space = PlantAddressSpace(namespace_index)
    objects = server.get_objects_node()
    plant = await objects.add_object(
        string_node_id("Plant", namespace_index), ua.QualifiedName("Plant", namespace_index)
    )
    line = await plant.add_object(
        string_node_id(LINE_NAME, namespace_index), ua.QualifiedName(LINE_NAME, namespace_index)
    )
    for spec in [*line_tags(), *_children(extra, LINE_NAME)]:
        await _add_tag(space, line, spec)
    for machine in MACHINES:
        machine_node = await line.add_object(
            string_node_id(f"{LINE_NAME}.{machine}", namespace_index),
            ua.QualifiedName(machine, namespace_index),
        )
        mine = [spec for spec in extra if spec.path.startswith(f"{LINE_NAME}.{machine}.")]
        for spec in [*machine_tags(machine), *mine]:
            await _add_tag(space, machine_node, spec)
    # Scenario objects that are not machines (e.g. Line1.Chiller, a utility's controller).
    groups = {
        s.path.rsplit(".", 1)[0]
        for s in extra
        if s.path.startswith(f"{LINE_NAME}.") and s.path.count(".") == 2
    }
    for path in sorted(groups - {f"{LINE_NAME}.{machine}" for machine in MACHINES}):
        name = path.rsplit(".", 1)[-1]
        group = await line.add_object(
            string_node_id(path, namespace_index), ua.QualifiedName(name, namespace_index)
        )
        for spec in _children(extra, path):
            await _add_tag(space, group, spec)
    return space


def _children(specs: Sequence[TagSpec], parent: str) -> list[TagSpec]:
    """The tags sitting directly under the object `parent`, e.g. Line1.SiteEnergy under Line1."""
    return [spec for spec in specs if spec.path.rsplit(".", 1)[0] == parent]


async def _add_tag(space: PlantAddressSpace, parent: Node, spec: TagSpec) -> None:
    ns = space.namespace_index
    node = await parent.add_variable(
        space.node_id(spec.path),
        ua.QualifiedName(spec.browse_name, ns),
        ua.Variant(spec.initial, spec.variant_type),
    )
    if spec.unit is not None:
        await node.add_property(
            string_node_id(f"{spec.path}.EngineeringUnits", ns),
            ua.QualifiedName("EngineeringUnits", 0),
            spec.unit.to_ua(),
        )
    if spec.eu_range is not None:
        low, high = spec.eu_range
        await node.add_property(
            string_node_id(f"{spec.path}.EURange", ns),
            ua.QualifiedName("EURange", 0),
            ua.Range(Low=low, High=high),
        )
    if spec.writable:
        await node.set_writable(True)
    space.specs[spec.path] = spec
    space.nodes[spec.path] = node
