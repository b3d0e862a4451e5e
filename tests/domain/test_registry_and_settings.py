"""Installed agents load and check out; settings come from FACTORY_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory_agents.agent import AgentSpec, Domain
from factory_agents.errors import ConfigurationError
from factory_agents.registry import agent_specs, build_agents, check_spec
from factory_agents.settings import Settings
from factory_agents.site import default_agent_configs


def test_every_installed_agent_spec_is_valid_and_uniquely_named() -> None:
    specs = agent_specs()
    assert "spc_drift" in specs
    for name, spec in specs.items():
        check_spec(name, spec)
        assert spec.name == name
        spec.config_model.model_validate({})  # defaults must be usable


def test_the_default_site_builds_its_agents() -> None:
    agents = build_agents(default_agent_configs())
    assert set(agents) == {
        "spc_drift", "capability", "defect_burst", "oee_losses", "load_shift",
        "condition_monitoring",
        "sequencing",
        "reorder",
        "shortage",
    }  # fmt: skip
    assert agents["spc_drift"].needs().history and agents["capability"].needs().history
    assert agents["defect_burst"].needs().mes == ("quality_results", "lots")


def test_an_agent_that_is_not_installed_is_named_in_the_error() -> None:
    with pytest.raises(ConfigurationError, match="oven_energy"):
        build_agents({"oven_energy": {}})


def test_a_spec_with_a_wrong_config_model_is_refused() -> None:
    bad = AgentSpec(
        name="bad", version="0", domain=Domain.ENERGY, description="", config_model=dict,
        factory=lambda c: c,
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="config_model"):
        check_spec("bad", bad)


def test_settings_read_the_factory_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTORY_HOME", str(tmp_path))
    monkeypatch.setenv("FACTORY_SIM_SPEED", "60")
    settings = Settings()
    assert settings.sim_speed == 60
    assert settings.ledger_url == f"sqlite:///{tmp_path.resolve() / 'ledger.db'}"
    assert settings.temporal_target == "127.0.0.1:7233"


def test_an_explicit_database_and_temporal_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("FACTORY_TEMPORAL_ADDRESS", "temporal:7233")
    settings = Settings()
    assert settings.ledger_url == "postgresql+psycopg://u@h/db"
    assert settings.temporal_target == "temporal:7233"


def test_a_bad_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_SIM_SPEED", "-1")
    with pytest.raises(ValueError, match="sim_speed"):
        Settings()
