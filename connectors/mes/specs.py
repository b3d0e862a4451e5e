"""The built-in MES connectors' specs, registered under `factory_agents.connectors`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from connectors.mes.rest import RestMes
from connectors.mes.sql import SqlMes
from connectors.spec import ConnectorSpec

VERSION = "0.1.0"


class SqlMesConfig(BaseModel):
    """Where the MES database is, and (for an existing MES schema) the mapping file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="SQLAlchemy URL, e.g. postgresql+psycopg://mes@db/mes")
    mapping: Path | None = Field(None, description="YAML mapping file; none = reference schema")


class RestMesConfig(BaseModel):
    """Where the MES API is, how to authenticate, and how long to wait."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    page_size: int = Field(500, ge=1)
    max_pages: int = Field(1000, ge=1)


def sql_mes(config: SqlMesConfig) -> SqlMes:
    """A SqlMes from its config."""
    return SqlMes(config.url, mapping=config.mapping)


def rest_mes(config: RestMesConfig) -> RestMes:
    """A RestMes from its config."""
    return RestMes(
        config.base_url,
        token=config.token,
        username=config.username,
        password=config.password,
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        page_size=config.page_size,
        max_pages=config.max_pages,
    )


SQL_SPEC = ConnectorSpec(
    name="sql_mes",
    version=VERSION,
    description="An MES through its SQL database: the reference ISA-95 schema or a mapping file",
    config_model=SqlMesConfig,
    factory=sql_mes,
    provides=("mes", "mes_writes"),
)

REST_SPEC = ConnectorSpec(
    name="rest_mes",
    version=VERSION,
    description="An MES through its REST API (bearer or basic auth, paging, idempotency keys)",
    config_model=RestMesConfig,
    factory=rest_mes,
    provides=("mes", "mes_writes"),
)
