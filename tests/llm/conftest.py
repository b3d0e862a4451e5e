"""Fixtures of the language-layer tests: a real ledger and MES, tags, a simulated plant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import streamlit as st

from connectors.mes import SqlMes
from connectors.opcua.connector import OpcUaConnector
from connectors.simulator.config import SimulatorConfig
from connectors.simulator.mes import seed_mes
from connectors.simulator.server import PlantSimulator
from factory_agents import site
from factory_agents.ledger.repository import Ledger
from factory_agents.llm import fakes
from factory_agents.llm.reader import PlatformReader
from tests.conftest import free_port
from tests.llm.helpers import GOOD, NOW, SCRAP, SETPOINT, Plant, StaticTags


@pytest.fixture(autouse=True)
def no_model_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start with no FACTORY_LLM_* variable from the machine they run on."""
    for name in (
        "FACTORY_LLM_MODELS",
        "FACTORY_LLM_PRICES_FILE",
        "FACTORY_LLM_TIMEOUT_SECONDS",
        "FACTORY_LLM_MAX_STEPS",
        "FACTORY_LLM_ENDPOINTS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """An empty SQLite ledger."""
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
        yield opened


@pytest.fixture
def mes_url(tmp_path: Path) -> str:
    """A SQLite MES seeded like the simulated plant's, around NOW."""
    url = f"sqlite:///{tmp_path / 'mes.db'}"
    seed_mes(url, 7, anchor=NOW)
    return url


@pytest.fixture
def tags() -> StaticTags:
    """The line's tags at fixed values."""
    return StaticTags({site.FILL_SETPOINT: SETPOINT, site.LINE_GOOD: GOOD, site.LINE_SCRAP: SCRAP})


@pytest.fixture
def reader(ledger: Ledger, mes_url: str, tags: StaticTags) -> Iterator[PlatformReader]:
    """The copilot's PlatformReader over the ledger, the seeded MES and the static tags."""
    mes = SqlMes(mes_url)
    yield PlatformReader(ledger, tags, mes, clock=lambda: NOW)
    mes.close()


@pytest.fixture
def script() -> Iterator[list[str]]:
    """Names registered with fakes.register_script here are unregistered after the test."""
    names: list[str] = []
    yield names
    for name in names:
        fakes.unregister_script(name)


@pytest.fixture(scope="session")
async def plant(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Plant]:
    """One simulated plant (OPC UA server and MES) for the language-layer tests."""
    home = tmp_path_factory.mktemp("plant")
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    mes_url = f"sqlite:///{home / 'mes.db'}"
    config = SimulatorConfig(endpoint=endpoint, speed=20, seed=7, mes_url=mes_url)
    async with (
        PlantSimulator(config),
        OpcUaConnector(endpoint, policy=site.DEFAULT_POLICY) as connector,
    ):
        yield Plant(endpoint, mes_url, home, connector)


@pytest.fixture
def platform_env(plant: Plant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """FACTORY_* settings pointing at the plant, its MES and a fresh ledger; caches cleared."""
    monkeypatch.setenv("FACTORY_HOME", str(tmp_path))
    monkeypatch.setenv("FACTORY_OPCUA_ENDPOINT", plant.endpoint)
    monkeypatch.setenv("FACTORY_MES_DATABASE_URL", plant.mes_url)
    monkeypatch.setenv("FACTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("FACTORY_USER", "ada")
    yield tmp_path
    st.cache_data.clear()
    st.cache_resource.clear()
