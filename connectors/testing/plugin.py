"""The conformance suite as a pytest plugin: check an installed connector against a live peer.

Loaded automatically once factory-agents is installed (its `pytest11` entry point), or with
``pytest -p connectors.testing.plugin``. It adds:

- ``--connector NAME``: the installed connector (a `factory_agents.connectors` entry point)
  to check; it overrides the test class's `connector_spec`;
- ``--connector-config FILE``: its configuration (YAML or JSON), validated by the spec's
  config model; the peer's `config` (what only the running peer knows) goes on top;
- the ``conformance_peer`` fixture, which the integrator overrides, and a report header;
- deselection of the checks of ports the connector's spec does not provide.

How an integrator runs it against their connector (see examples/csv_historian/tests)::

    # tests/conftest.py: start a peer with known data and describe it
    @pytest.fixture
    def conformance_peer(tmp_path):
        export = write_known_export(tmp_path / "export.csv")    # your peer, with known data
        return ConformancePeer(
            config={"path": str(export)},                        # merged over the config file
            tags=TagData(tags=("Line1.Temp",), history_tag="Line1.Temp",
                         history_start=T0, history_end=T0 + timedelta(hours=1)),
        )

    # tests/test_conformance.py: the checks of the ports the connector provides
    from connectors.testing.suite import ConnectorChecks

    class TestMyConnector(ConnectorChecks):
        connector_spec = "my_connector"

    $ pytest tests --connector my_connector --connector-config my-config.yaml

The fixture may be async (with pytest-asyncio), have any scope, and start servers; the
checks use fresh action ids and undo their holds and setpoint changes, so a peer shared by
several checks stays usable.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.spec import ConnectorSpec
from connectors.testing.peer import ConformancePeer
from connectors.testing.suite import ConnectorUnderTest, check_port, resolve_spec


def pytest_addoption(parser: pytest.Parser) -> None:
    """The --connector and --connector-config options."""
    group = parser.getgroup("factory-agents conformance", "connector conformance suite")
    group.addoption(
        "--connector",
        dest="connector",
        default=None,
        metavar="NAME",
        help="installed connector (factory_agents.connectors entry point) to check",
    )
    group.addoption(
        "--connector-config",
        dest="connector_config",
        default=None,
        metavar="FILE",
        help="the connector's configuration, YAML or JSON, validated by its config model",
    )


@pytest.fixture
def conformance_peer() -> ConformancePeer:
    """Override this fixture: start a peer with known data and return a ConformancePeer."""
    raise pytest.UsageError(
        "the connector conformance suite needs a peer: define a `conformance_peer` fixture"
        " (in conftest.py or on the test class) that starts your system with known data and"
        " returns connectors.testing.ConformancePeer(...); see connectors/testing/plugin.py"
    )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Deselect the checks of ports the connector under test does not provide."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    provided: dict[type, tuple[str, ...] | None] = {}
    for item in items:
        cls = getattr(item, "cls", None)
        function = getattr(item, "function", None)
        wanted = check_port(function) if function is not None else None
        if cls is None or wanted is None or not issubclass(cls, ConnectorUnderTest):
            kept.append(item)
            continue
        if cls not in provided:
            provided[cls] = _ports(config, cls)
        ports = provided[cls]
        (kept if ports is None or wanted in ports else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _ports(config: pytest.Config, cls: type[ConnectorUnderTest]) -> tuple[str, ...] | None:
    """The ports to check for a class: its `ports`, else its spec's, else all (None)."""
    if cls.ports is not None:
        return tuple(cls.ports)
    try:
        spec = resolve_spec(config, cls)
    except Exception:  # reported by the checks themselves, with the full message
        return None
    return None if spec is None else tuple(spec.provides)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Which connector the suite checks, when --connector names one."""
    name: str | None = config.getoption("connector", default=None)
    if name is None:
        return []
    lines = [f"connector conformance: {name}"]
    try:
        spec: Any = resolve_spec(config, object)
    except Exception as err:
        return [*lines, f"  cannot load it: {err}"]
    if isinstance(spec, ConnectorSpec):
        lines.append(f"  version {spec.version}, ports {', '.join(spec.provides)}")
    path = config.getoption("connector_config", default=None)
    lines.append(f"  config {path or '(none; the peer gives it)'}")
    return lines
