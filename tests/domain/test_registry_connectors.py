"""Connectors found through the `factory_agents.connectors` entry points, checked on load, and
listed by `factory-agents connectors list`."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from connectors.mes import RestMes, SqlMes
from connectors.mes.specs import REST_SPEC, SQL_SPEC
from connectors.spec import ConnectorSpec
from connectors.specs_builtin import OPCUA_SPEC, SPARKPLUG_SPEC
from factory_agents import registry
from factory_agents.commands.connectors import connectors_app
from factory_agents.errors import ConfigurationError
from factory_agents.registry import check_connector_spec, connector_specs

BUILT_IN = {"sql_mes": SQL_SPEC, "rest_mes": REST_SPEC, "opcua": OPCUA_SPEC,
            "mqtt_sparkplug": SPARKPLUG_SPEC}  # fmt: skip


class _Config(BaseModel):
    url: str = "x"


GOOD = ConnectorSpec(
    name="acme_mes", version="1.0", description="ACME", config_model=_Config,
    factory=lambda config: config, provides=("mes",),
)  # fmt: skip


@dataclass
class _Point:
    """Stands in for an importlib.metadata.EntryPoint."""

    name: str
    loaded: Any
    value: str = "acme:SPEC"
    dist: Any = None

    def load(self) -> Any:
        if isinstance(self.loaded, Exception):
            raise self.loaded
        return self.loaded


def _installed(monkeypatch: pytest.MonkeyPatch, *points: _Point) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: list(points))


def test_every_installed_connector_spec_is_valid_and_uniquely_named() -> None:
    specs = connector_specs()
    assert "csv_historian" in specs, "the example: pip install --no-deps -e examples/csv_historian"
    for name, spec in specs.items():
        check_connector_spec(name, spec)
        assert spec.name == name


def test_the_built_in_connectors_are_registered_through_entry_points() -> None:
    specs = connector_specs()
    missing = sorted(set(BUILT_IN) - set(specs))
    assert not missing, f"add the built-in entry points to pyproject.toml and reinstall: {missing}"
    for name, spec in BUILT_IN.items():
        assert specs[name] is spec


def test_the_built_in_specs_build_their_connectors() -> None:
    for name, spec in BUILT_IN.items():
        check_connector_spec(name, spec)
    sql = SQL_SPEC.create({"url": "sqlite:///:memory:"})
    assert isinstance(sql, SqlMes)
    sql.close()
    rest = REST_SPEC.create({"base_url": "http://127.0.0.1:9/api", "token": "t"})
    assert isinstance(rest, RestMes) and rest.base_url == "http://127.0.0.1:9/api/"
    opcua = OPCUA_SPEC.create({"endpoint": "opc.tcp://127.0.0.1:4840/x/"})
    assert type(opcua).__name__ == "OpcUaConnector"
    sparkplug = SPARKPLUG_SPEC.create({"group_id": "Plant1", "broker": "mqtt://127.0.0.1:1883"})
    assert type(sparkplug).__name__ == "SparkplugConnector"
    with pytest.raises(ConfigurationError, match="base_url: Field required"):
        REST_SPEC.create({})
    with pytest.raises(ConfigurationError, match="colour: Extra inputs are not permitted"):
        SQL_SPEC.create({"url": "sqlite://", "colour": "red"})


def test_a_connector_that_fails_to_load_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, _Point("acme", ImportError("No module named 'acme'")))
    with pytest.raises(ConfigurationError, match=r"'acme' \(acme:SPEC\) failed to load"):
        connector_specs()


@pytest.mark.parametrize(
    ("loaded", "says"),
    [
        (object(), "is not a ConnectorSpec"),
        (replace(GOOD, config_model=dict), "config_model is not a pydantic model"),  # type: ignore[arg-type]
        (replace(GOOD, factory="not callable"), "factory is not callable"),  # type: ignore[arg-type]
        (replace(GOOD, provides=()), "provides must name at least one port"),
        (replace(GOOD, provides=("tags", "recipes")), r"got \['tags', 'recipes'\]"),  # type: ignore[arg-type]
    ],
)
def test_unusable_specs_are_refused(
    monkeypatch: pytest.MonkeyPatch, loaded: object, says: str
) -> None:
    _installed(monkeypatch, _Point("acme_mes", loaded))
    with pytest.raises(ConfigurationError, match=says):
        connector_specs()


def test_two_connectors_with_one_name_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, _Point("a", GOOD), _Point("b", GOOD, value="other:SPEC"))
    with pytest.raises(ConfigurationError, match=r"both named 'acme_mes'.*acme:SPEC.*other:SPEC"):
        connector_specs()


def test_connectors_list_shows_name_version_ports_and_distribution() -> None:
    runner = CliRunner()
    listed = runner.invoke(connectors_app, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.output)}
    assert rows["csv_historian"]["ports"] == ["tags"]
    assert rows["csv_historian"]["distribution"] == "factory-agents-csv-historian"
    assert rows["csv_historian"]["entry_point"] == "factory_agents_csv_historian:SPEC"
    table = runner.invoke(connectors_app, ["list"])
    assert table.exit_code == 0 and "csv_historian" in table.output
