"""docker-compose.yml cannot run here (no Docker engine): check it against what the code reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from factory_agents.cli import app
from factory_agents.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = {name: svc for name, svc in SERVICES.items() if svc.get("build") == "."}


def test_the_platform_roles_and_their_peers_are_all_there() -> None:
    assert set(OURS) == {"simulator", "schedules", "worker", "board"}
    assert {"postgres", "temporal", "temporal-ui"} <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_role_runs_a_real_cli_command(name: str) -> None:
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert OURS[name]["command"][0] in commands


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_factory_variable_is_a_setting_the_code_reads(name: str) -> None:
    environment = OURS[name].get("environment", {})
    for variable, value in environment.items():
        assert variable.startswith("FACTORY_"), variable
        field = variable.removeprefix("FACTORY_").lower()
        assert field in Settings.model_fields, f"{name}: {variable} is read by nothing"
        Settings(**{field: value})  # and its value is valid


def test_published_ports_match_the_settings() -> None:
    defaults = Settings()
    assert SERVICES["board"]["ports"] == [f"{defaults.board_port}:{defaults.board_port}"]
    assert SERVICES["simulator"]["ports"] == ["4840:4840"]
    worker_env = SERVICES["worker"]["environment"]
    assert worker_env["FACTORY_OPCUA_ENDPOINT"].startswith("opc.tcp://simulator:4840/")
    assert worker_env["FACTORY_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert worker_env["FACTORY_DATABASE_URL"].startswith("postgresql+psycopg://")


def test_the_image_holds_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("factory_agents", "connectors", "workflows", "dashboards"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "constraints.txt" in dockerfile
    assert "'.[postgres]'" in dockerfile
