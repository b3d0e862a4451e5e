"""docker-compose.yml cannot run here (no Docker engine): check it against what the code reads.

Structure, images and builds, the environment (every FACTORY_* variable a setting with a valid
value, the peers' variables consistent with each other), published ports, healthchecks (their
probes compile and hit the configured ports), dependencies, the shared FACTORY_HOME volume,
and the Dockerfile the platform's roles are built from.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import typer.main
import yaml
from sqlalchemy.engine import make_url

from factory_agents.cli import app
from factory_agents.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
RAW = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(RAW)
SERVICES: dict[str, Any] = COMPOSE["services"]
OURS = {name: svc for name, svc in SERVICES.items() if svc.get("build") == "."}
DOCKERFILE = (ROOT / "Dockerfile").read_text()
README = (ROOT / "README.md").read_text()

ONE_SHOT = {"init", "schedules", "temporal-schema", "temporal-namespace"}
LONG_RUNNING = set(SERVICES) - ONE_SHOT
TOP_LEVEL = {"name", "services", "volumes", "configs", "networks", "secrets"}
SERVICE_KEYS = {
    "build", "image", "init", "command", "entrypoint", "environment", "ports", "volumes",
    "configs", "depends_on", "deploy", "healthcheck", "restart", "stop_grace_period",
}  # fmt: skip
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
DURATION = re.compile(r"^(\d+(h|m|s|ms))+$")
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(:-([^}]*))?\}")


def resolved(value: Any) -> str:
    """A value as Compose hands it to the container with no .env: defaults in, $$ as $."""
    text = INTERPOLATION.sub(lambda m: m.group(3) or "", str(value))
    return text.replace("$$", "$")


def env(name: str) -> dict[str, str]:
    """A service's environment, interpolated."""
    return {k: resolved(v) for k, v in SERVICES[name].get("environment", {}).items()}


def config(name: str) -> str:
    """The content of an inline config, interpolated."""
    return resolved(COMPOSE["configs"][name]["content"])


def published(name: str) -> list[tuple[int, int]]:
    """The (host, container) ports a service publishes."""
    pairs = [str(p).split(":") for p in SERVICES[name].get("ports", [])]
    return [(int(host), int(container)) for host, container in pairs]


def dockerfile_home() -> str:
    """FACTORY_HOME as the Dockerfile sets it."""
    match = re.search(r"^ENV FACTORY_HOME=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert match, "the Dockerfile sets no FACTORY_HOME"
    return match.group(1)


def python_probe(name: str) -> str:
    """The Python code of a service's `python -c` healthcheck, checked to compile."""
    test = SERVICES[name]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    code: str = test[3]
    ast.parse(code)
    return code


# --- structure and images ---


def test_only_known_keys_so_a_typo_cannot_hide() -> None:
    assert set(COMPOSE) - {k for k in COMPOSE if k.startswith("x-")} <= TOP_LEVEL
    for name, service in SERVICES.items():
        assert set(service) <= SERVICE_KEYS, f"{name}: {set(service) - SERVICE_KEYS}"
        if "healthcheck" in service:
            assert set(service["healthcheck"]) <= HEALTHCHECK_KEYS, name


def test_the_platform_roles_and_their_peers_are_all_there() -> None:
    assert set(OURS) == {"init", "simulator", "schedules", "worker", "board"}
    peers = {"postgres", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui"}
    assert peers | {"prometheus"} <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(set(SERVICES) - set(OURS)))
def test_every_peer_image_is_pinned(name: str) -> None:
    image = SERVICES[name]["image"]
    repository, _, tag = image.rpartition(":")
    assert repository and tag and tag != "latest", image
    assert re.match(r"^v?\d+(\.\d+)*$", tag), f"{name}: pin a version, not {tag!r}"


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_role_runs_a_real_cli_command(name: str) -> None:
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert OURS[name]["command"][0] in commands
    assert OURS[name]["image"] == "factory-agents:local"  # built once, shared by every role


def test_every_interpolated_variable_has_a_default() -> None:
    for match in INTERPOLATION.finditer(RAW):
        assert match.group(2), f"${{{match.group(1)}}} has no default; add :-value"
    variables = {m.group(1) for m in INTERPOLATION.finditer(RAW)}
    assert variables == {"LEDGER_DB_PASSWORD", "TEMPORAL_DB_PASSWORD"}
    for variable in variables:
        assert variable in README, f"{variable} is not documented in README.md"


# --- environment ---


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_factory_variable_is_a_setting_the_code_reads(name: str) -> None:
    environment = env(name)
    assert environment, f"{name} is configured by nothing"
    for variable in environment:
        assert variable.startswith("FACTORY_"), f"{name}: {variable} is read by nothing"
        field = variable.removeprefix("FACTORY_").lower()
        assert field in Settings.model_fields, f"{name}: {variable} is read by nothing"
        assert variable in README, f"{variable} is not documented in README.md"
    Settings.model_validate(
        {k.removeprefix("FACTORY_").lower(): v for k, v in environment.items()}
    )  # and the values are valid together


@pytest.mark.parametrize("name", ["worker", "schedules", "board", "init"])
def test_every_role_on_the_ledger_shares_one_database_temporal_and_namespace(name: str) -> None:
    worker = env("worker")
    for variable in (
        "FACTORY_DATABASE_URL",
        "FACTORY_TEMPORAL_ADDRESS",
        "FACTORY_TEMPORAL_NAMESPACE",
    ):
        assert env(name)[variable] == worker[variable], f"{name}: {variable}"
    if name != "init":
        assert env(name)["FACTORY_MES_DATABASE_URL"] == env("simulator")["FACTORY_MES_DATABASE_URL"]


def test_ledger_and_mes_live_in_databases_the_init_script_creates_for_a_non_superuser() -> None:
    sql = config("postgres-init")
    superuser = env("postgres")["POSTGRES_USER"]
    for variable in ("FACTORY_DATABASE_URL", "FACTORY_MES_DATABASE_URL"):
        url = make_url(env("worker")[variable])
        assert (url.drivername, url.host, url.port) == ("postgresql+psycopg", "postgres", 5432)
        assert url.username != superuser  # the audit trail's REVOKE binds only a non-superuser
        assert f"CREATE ROLE {url.username} LOGIN PASSWORD '{url.password}';" in sql
        assert f"CREATE DATABASE {url.database} OWNER {url.username};" in sql
    for database in ("temporal", "temporal_visibility"):
        assert f"CREATE DATABASE {database} OWNER {superuser};" in sql
        assert database in SERVICES["temporal-schema"]["command"][0]


def test_temporal_uses_that_postgres_and_every_client_finds_it() -> None:
    server, pg = env("temporal"), env("postgres")
    assert server["DB"] == "postgres12" and server["POSTGRES_SEEDS"] == "postgres"
    assert (server["POSTGRES_USER"], server["POSTGRES_PWD"]) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
    )
    assert env("temporal-schema")["SQL_PASSWORD"] == pg["POSTGRES_PASSWORD"]
    assert "-u " + pg["POSTGRES_USER"] in SERVICES["temporal-schema"]["command"][0]
    address = env("worker")["FACTORY_TEMPORAL_ADDRESS"]
    host, port = address.split(":")
    assert host == "temporal" and (int(port), int(port)) in published("temporal")
    assert env("temporal-ui")["TEMPORAL_ADDRESS"] == address
    assert env("temporal-namespace")["TEMPORAL_ADDRESS"] == address


def test_the_namespace_the_platform_uses_is_the_one_created_and_shown() -> None:
    namespace = env("worker")["FACTORY_TEMPORAL_NAMESPACE"]
    assert namespace != Settings().temporal_namespace  # set on purpose, not by accident
    assert env("temporal-namespace")["NAMESPACE"] == namespace
    assert "namespace create" in SERVICES["temporal-namespace"]["command"][0]
    assert env("temporal-ui")["TEMPORAL_DEFAULT_NAMESPACE"] == namespace


# --- ports and healthchecks ---


def test_published_ports_match_the_settings() -> None:
    board = Settings.model_validate({"board_port": env("board")["FACTORY_BOARD_PORT"]})
    assert published("board") == [(board.board_port, board.board_port)]
    sim_port = urlparse(env("simulator")["FACTORY_OPCUA_ENDPOINT"]).port
    assert published("simulator") == [(sim_port, sim_port)]
    assert urlparse(env("worker")["FACTORY_OPCUA_ENDPOINT"]).hostname == "simulator"
    assert urlparse(env("worker")["FACTORY_OPCUA_ENDPOINT"]).port == sim_port
    assert published("temporal-ui") == [(8080, 8080)]


def test_worker_replicas_publish_no_host_port_and_expose_both_metrics() -> None:
    worker = SERVICES["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "ports" not in worker  # replicas cannot share a host port
    settings = Settings.model_validate(
        {k.removeprefix("FACTORY_").lower(): v for k, v in env("worker").items()}
    )
    assert settings.metrics_address == "0.0.0.0"
    assert settings.metrics_port is not None
    assert settings.platform_metrics_target == settings.metrics_port + 1
    scraped = yaml.safe_load(config("prometheus"))["scrape_configs"]
    targets = {(sd["names"][0], sd["port"]) for job in scraped for sd in job["dns_sd_configs"]}
    assert targets == {
        ("worker", settings.metrics_port),
        ("worker", settings.platform_metrics_target),
    }
    exposed = re.search(r"^EXPOSE (.+)$", DOCKERFILE, re.MULTILINE)
    assert exposed is not None
    ports = {settings.metrics_port, settings.platform_metrics_target, settings.board_port}
    assert {str(port) for port in ports} <= set(exposed.group(1).split())


@pytest.mark.parametrize("name", sorted(LONG_RUNNING - {"temporal-ui", "prometheus"}))
def test_long_running_services_have_a_healthcheck(name: str) -> None:
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    for key in ("interval", "timeout", "start_period"):
        assert DURATION.match(str(check[key])), f"{name}: {key}={check[key]}"
    assert int(check["retries"]) > 0


def test_each_probe_asks_the_port_its_service_serves() -> None:
    worker = Settings.model_validate(
        {k.removeprefix("FACTORY_").lower(): v for k, v in env("worker").items()}
    )
    assert f"127.0.0.1:{worker.platform_metrics_target}/metrics" in python_probe("worker")
    board_port = env("board")["FACTORY_BOARD_PORT"]
    assert f"127.0.0.1:{board_port}/_stcore/health" in python_probe("board")
    sim_port = urlparse(env("simulator")["FACTORY_OPCUA_ENDPOINT"]).port
    assert f"('127.0.0.1', {sim_port})" in python_probe("simulator")
    assert "7233" in SERVICES["temporal"]["healthcheck"]["test"]
    assert (
        f"-U {env('postgres')['POSTGRES_USER']}" in SERVICES["postgres"]["healthcheck"]["test"][1]
    )


# --- dependencies ---


def dependencies(name: str) -> dict[str, str]:
    """A service's dependencies and the condition each waits for."""
    depends = SERVICES[name].get("depends_on", {})
    assert isinstance(depends, dict), f"{name}: give each dependency its condition"
    return {target: spec["condition"] for target, spec in depends.items()}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_exist_and_their_conditions_can_be_met(name: str) -> None:
    for target, condition in dependencies(name).items():
        assert target in SERVICES, f"{name} depends on unknown {target}"
        assert condition in CONDITIONS
        if condition == "service_healthy":
            assert "healthcheck" in SERVICES[target], f"{target} never becomes healthy"
        if condition == "service_completed_successfully":
            assert target in ONE_SHOT, f"{target} never completes"
            assert str(SERVICES[target]["restart"]).startswith(("no", "on-failure"))


def test_the_dependency_graph_has_no_cycle() -> None:
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name not in done:
            for target in dependencies(name):
                visit(target, (*path, name))
            done.add(name)

    for name in SERVICES:
        visit(name, ())


@pytest.mark.parametrize("name", ["worker", "schedules", "board"])
def test_roles_start_once_the_ledger_key_users_and_namespace_are_ready(name: str) -> None:
    waits = dependencies(name)
    assert waits["init"] == "service_completed_successfully"
    assert waits["temporal-namespace"] == "service_completed_successfully"


def test_temporal_starts_on_a_ready_schema_and_workers_on_a_healthy_plant() -> None:
    assert dependencies("temporal") == {"temporal-schema": "service_completed_successfully"}
    assert dependencies("temporal-schema") == {"postgres": "service_healthy"}
    assert dependencies("worker")["simulator"] == "service_healthy"


# --- FACTORY_HOME and the image ---


def mounts(name: str) -> dict[str, str]:
    """A service's volume mounts: target -> source."""
    pairs = [str(v).split(":")[:2] for v in SERVICES[name].get("volumes", [])]
    return {target: source for source, target in pairs}


@pytest.mark.parametrize("name", ["init", "worker", "schedules", "board"])
def test_signing_key_and_users_are_shared_through_one_volume_at_factory_home(name: str) -> None:
    home = dockerfile_home()
    assert mounts(name)[home] == "factory-home"
    assert "factory-home" in COMPOSE["volumes"]
    assert "FACTORY_HOME" not in SERVICES[name].get("environment", {})  # the image's is used


def test_the_simulator_does_not_see_the_signing_key() -> None:
    assert mounts("simulator")[dockerfile_home()] == "simulator-home"


def test_every_referenced_config_and_volume_is_declared() -> None:
    for name, service in SERVICES.items():
        for ref in service.get("configs", []):
            assert ref["source"] in COMPOSE["configs"], name
        for source in mounts(name).values():
            assert source in COMPOSE["volumes"], f"{name}: volume {source}"


def test_the_image_holds_every_package_pinned_and_runs_unprivileged() -> None:
    for package in ("factory_agents", "connectors", "workflows", "dashboards"):
        assert f"COPY {package} /src/{package}" in DOCKERFILE
    assert "pip install -c /src/constraints.txt '/src[postgres]'" in DOCKERFILE
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert f"--home-dir {dockerfile_home()}" in DOCKERFILE and "chmod 0700" in DOCKERFILE
    assert re.search(r'^ENTRYPOINT \["factory-agents"\]$', DOCKERFILE, re.MULTILINE)


def test_no_local_state_or_secret_goes_into_the_build_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".factory", "tests"} <= ignored
