"""A factory-agents connector for CSV historian exports, registered as `csv_historian`.

The platform finds it through the entry point in pyproject.toml::

    [project.entry-points."factory_agents.connectors"]
    csv_historian = "factory_agents_csv_historian:SPEC"
"""

from connectors.spec import ConnectorSpec
from factory_agents_csv_historian.historian import CsvHistorian, CsvHistorianConfig

__version__ = "0.1.0"

SPEC = ConnectorSpec(
    name="csv_historian",
    version=__version__,
    description="Tag values and history from a CSV historian export (tag, time, value, quality)",
    config_model=CsvHistorianConfig,
    factory=CsvHistorian,
    provides=("tags",),
)

__all__ = ["SPEC", "CsvHistorian", "CsvHistorianConfig"]
