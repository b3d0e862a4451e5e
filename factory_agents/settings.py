"""All settings in one pydantic-settings object; every field can be set as FACTORY_<NAME>."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from factory_agents.policy import Policy


class Settings(BaseSettings):
    """The platform's settings, read from FACTORY_* environment variables with embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="FACTORY_", extra="ignore")

    home: Path = Field(
        Path(".factory"), description="State folder: ledger, Temporal database, logs"
    )
    site: str = Field("site1", description="The site this platform runs, the root of areas")
    policy_file: Path | None = Field(
        None, description="Guardrails (TOML); default: policy.toml in home, else the built-in"
    )
    database_url: str | None = Field(None, description="Ledger URL; default SQLite in home")
    mes_database_url: str | None = Field(
        None, description="MES database URL; default: the simulated plant's MES in home"
    )
    temporal_address: str | None = Field(
        None, description="host:port of a Temporal frontend; default: start a dev server in home"
    )
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_namespace: str = "default"
    task_queue: str = "factory-agents"
    # Running beyond one machine: Temporal TLS, worker identity, logs, metrics
    temporal_tls_cert: Path | None = Field(
        None, description="Client certificate (PEM) for mutual TLS to the Temporal frontend"
    )
    temporal_tls_key: Path | None = Field(None, description="The client certificate's key (PEM)")
    temporal_tls_ca: Path | None = Field(
        None, description="CA (PEM) that signed the frontend's certificate; unset: system roots"
    )
    temporal_tls_server_name: str | None = Field(
        None, description="Name to verify on the frontend's certificate; default: its host"
    )
    worker_name: str | None = Field(
        None, description="This worker's identity in Temporal, logs and metrics; default pid@host"
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text for people, json for one JSON object per line"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Temporal SDK metrics (Prometheus); unset: none"
    )
    platform_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="The platform's own metrics; default metrics_port + 1"
    )
    metrics_address: str = Field("127.0.0.1", description="Interface the metrics endpoints bind")

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.lower() if info.field_name == "log_format" else value.upper()

    opcua_endpoint: str = "opc.tcp://127.0.0.1:4840/factory-agents/"
    opcua_policy: str | None = Field(
        None, description="Basic256Sha256 or Aes256_Sha256_RsaPss; unset: the local simulator"
    )
    opcua_mode: str | None = Field(None, description="SignAndEncrypt (default) or Sign")
    opcua_certificate: Path | None = Field(None, description="The client's certificate (DER/PEM)")
    opcua_private_key: Path | None = Field(None, description="The client's private key")
    opcua_private_key_password: SecretStr | None = None
    opcua_trust_folder: Path | None = Field(None, description="Trusted server certificates")
    opcua_user: str | None = Field(None, description="UserName identity")
    opcua_password: SecretStr | None = None
    opcua_user_certificate: Path | None = Field(None, description="X509 identity certificate")
    opcua_user_private_key: Path | None = None
    opcua_allow_none: bool | None = Field(
        None, description="Allow security mode None (only for a local simulator)"
    )
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
    escalate_after_seconds: float | None = Field(
        None, gt=0, description="Notify the next role when a proposal waits longer than this"
    )
    webhook_url: str | None = Field(None, description="Notifications are posted here as JSON")
    llm_models: str | None = Field(
        None,
        description="Language models per task, e.g. explain=openai:gpt-4o-mini; none: no model",
    )
    llm_prices_file: Path | None = Field(
        None, description="Model prices (TOML) added to the built-in"
    )
    llm_timeout_seconds: float = Field(30.0, gt=0, description="Longest wait for one model call")
    llm_max_steps: int = Field(
        6, ge=1, le=50, description="Most tool calls one copilot answer takes"
    )
    llm_endpoints: str | None = Field(
        None, description="Base URLs per provider, e.g. ollama=http://…"
    )
    webhook_secret: str | None = Field(None, description="Signs webhook bodies (HMAC-SHA256)")

    @property
    def ledger_url(self) -> str:
        """The ledger's SQLAlchemy URL: the configured one or a SQLite file in home."""
        return self.database_url or f"sqlite:///{(self.home / 'ledger.db').resolve()}"

    @property
    def mes_url(self) -> str:
        """The MES database's SQLAlchemy URL: the configured one or the simulated MES in home."""
        return self.mes_database_url or f"sqlite:///{(self.home / 'mes.db').resolve()}"

    @property
    def worker_identity(self) -> str:
        """This worker's name: FACTORY_WORKER_NAME, or pid@host as Temporal names workers."""
        return self.worker_name or f"{os.getpid()}@{socket.gethostname()}"

    @property
    def platform_metrics_target(self) -> int | None:
        """Port of the platform's own metrics: set, or next to the SDK's, or None (off)."""
        if self.platform_metrics_port is not None:
            return self.platform_metrics_port
        return None if self.metrics_port is None else self.metrics_port + 1

    @property
    def temporal_target(self) -> str:
        """host:port the platform's Temporal clients connect to."""
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def opcua_security_fields(self) -> dict[str, str]:
        """The FACTORY_OPCUA_* security settings that are set, as connectors.opcua reads them."""
        names = (
            "policy", "mode", "certificate", "private_key", "private_key_password", "trust_folder",
            "user", "password", "user_certificate", "user_private_key", "allow_none",
        )  # fmt: skip
        fields: dict[str, str] = {}
        for name in names:
            value = getattr(self, f"opcua_{name}")
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if value is not None:
                fields[name] = str(value)
        return fields

    def policy(self) -> Policy:
        """The guardrails in force: the policy file, or the embedded default site's policy."""
        from factory_agents.policy_file import policy_in_force
        from factory_agents.site import DEFAULT_POLICY

        return policy_in_force(self.home, self.policy_file, DEFAULT_POLICY)
