"""The MES: the reference ISA-95 schema, and connectors to an MES through SQL or REST."""

from connectors.mes.rest import RestMes
from connectors.mes.sql import SqlMes

__all__ = ["RestMes", "SqlMes"]
