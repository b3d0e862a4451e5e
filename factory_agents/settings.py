"""All settings in one pydantic-settings object; every field can be set as FACTORY_<NAME>."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The platform's settings, read from FACTORY_* environment variables with embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="FACTORY_", extra="ignore")

    home: Path = Field(
        Path(".factory"), description="State folder: ledger, Temporal database, logs"
    )
    database_url: str | None = Field(None, description="Ledger URL; default SQLite in home")
    temporal_address: str | None = Field(
        None, description="host:port of a Temporal frontend; default: start a dev server in home"
    )
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    task_queue: str = "factory-agents"
    opcua_endpoint: str = "opc.tcp://127.0.0.1:4840/factory-agents/"
    sim_speed: float = Field(10.0, gt=0, description="Simulated seconds per real second")
    sim_seed: int = 7
    board_port: int = 8501
    board_address: str = Field("127.0.0.1", description="Interface the board binds to")
    agent_interval_seconds: float = Field(20.0, gt=0, description="How often agents run")
    proposal_ttl_seconds: float = Field(3600.0, gt=0, description="Pending proposals expire after")
    verification_seconds: float = Field(
        60.0, gt=0, description="Window after acting over which the realized saving is measured"
    )
    stale_after_seconds: float = Field(10.0, gt=0, description="Samples older than this are stale")

    @property
    def ledger_url(self) -> str:
        """The ledger's SQLAlchemy URL: the configured one or a SQLite file in home."""
        return self.database_url or f"sqlite:///{(self.home / 'ledger.db').resolve()}"

    @property
    def mes_url(self) -> str:
        """The simulated MES database's SQLAlchemy URL (a SQLite file in home)."""
        return f"sqlite:///{(self.home / 'mes.db').resolve()}"

    @property
    def temporal_target(self) -> str:
        """host:port the platform's Temporal clients connect to."""
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"
