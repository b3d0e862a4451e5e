"""`factory-agents opcua ...` against real servers: ours, a plain asyncua one, a secured one.

The CLI runs `asyncio.run` itself, so each invocation runs in a worker thread while the
servers keep serving on the test's event loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from connectors.opcua.security import load_certificate, thumbprint
from connectors.simulator import PlantSimulator
from factory_agents import site
from factory_agents.commands.opcua import opcua_app
from factory_agents.errors import ConfigurationError, ConnectorError
from tests.connectors import standard_server as boiler
from tests.connectors.conftest import PASSWORD, Pki
from tests.connectors.standard_server import StandardServer

app = typer.Typer()
app.add_typer(opcua_app, name="opcua")
runner = CliRunner()


async def _invoke(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> Result:
    def run() -> Result:
        return runner.invoke(app, ["opcua", *args], env=env or {}, input=stdin)

    async with asyncio.timeout(30):
        return await asyncio.to_thread(run)


def _secured(pki: Pki) -> list[str]:
    return [
        "--policy",
        "Basic256Sha256",
        "--cert",
        str(pki.client.certificate),
        "--key",
        str(pki.client.private_key),
        "--trust",
        str(pki.client_trust),
        "--user",
        "operator",
    ]


async def test_read_any_standard_server_as_json_and_table(standard: StandardServer) -> None:
    nodes = [boiler.TEMPERATURE, boiler.MODE, boiler.RUNNING, boiler.BAD]
    result = await _invoke("read", standard.endpoint, *nodes, "--allow-none", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["node_id"]: row for row in json.loads(result.output)}
    assert rows[boiler.TEMPERATURE]["value"] == 71.5
    assert (rows[boiler.MODE]["text"], rows[boiler.MODE]["data_type"]) == ("auto", "LocalizedText")
    assert rows[boiler.RUNNING]["value"] is True
    assert (rows[boiler.BAD]["status"], rows[boiler.BAD]["quality"]) == ("BadSensorFailure", "bad")
    table = await _invoke("read", standard.endpoint, boiler.TEMPERATURE, "--allow-none")
    assert table.exit_code == 0, table.output
    assert "71.5" in table.output and "Good" in table.output


async def test_browse_any_standard_server(standard: StandardServer) -> None:
    result = await _invoke(
        "browse", standard.endpoint, "--root", boiler.PLAIN_OBJECT, "--depth", "2",
        "--allow-none", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    by_id = {node["node_id"]: node for node in answer["nodes"]}
    setpoint = by_id[boiler.SETPOINT]
    assert (setpoint["data_type"], setpoint["unit"], setpoint["access"]) == (
        "Float",
        "°C",
        ["read", "write"],
    )
    assert by_id[boiler.TEMPERATURE]["eu_range"] == [0.0, 120.0]
    assert answer["truncated"] is False
    table = await _invoke("browse", standard.endpoint, "--depth", "1", "--allow-none")
    assert table.exit_code == 0, table.output
    assert "ns=2;s=Boiler" in table.output and "Object" in table.output


async def test_watch_stops_after_count_or_seconds(
    shared_plant: PlantSimulator, standard: StandardServer
) -> None:
    result = await _invoke(
        "watch", shared_plant.endpoint, site.LINE_GOOD, "--count", "3", "--interval", "0.05",
        "--seconds", "10", "--allow-none", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 3
    assert all(line["node_id"] == site.LINE_GOOD and line["quality"] == "good" for line in lines)
    values = [line["value"] for line in lines]
    assert values == sorted(values)
    quiet = await _invoke(
        "watch", standard.endpoint, boiler.MODE, "--seconds", "0.5", "--allow-none"
    )
    assert quiet.exit_code == 0, quiet.output
    assert "auto" in quiet.output  # the initial value of a text node, then nothing changes


async def test_no_security_is_refused_unless_allowed(standard: StandardServer) -> None:
    result = await _invoke("read", standard.endpoint, boiler.TEMPERATURE)
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigurationError)
    assert "--allow-none" in str(result.exception)


async def test_secured_server_with_password_from_the_environment_or_stdin(
    secured_plant: PlantSimulator, pki: Pki
) -> None:
    from_env = await _invoke(
        "read", secured_plant.endpoint, site.FILL_SETPOINT, "--json", *_secured(pki),
        env={"FACTORY_OPCUA_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert from_env.exit_code == 0, from_env.output
    assert json.loads(from_env.output)[0]["quality"] == "good"
    from_stdin = await _invoke(
        "read", secured_plant.endpoint, site.FILL_SETPOINT, "--json", *_secured(pki),
        "--password-stdin", stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.output
    wrong = await _invoke(
        "read", secured_plant.endpoint, site.FILL_SETPOINT, *_secured(pki), "--password-stdin",
        stdin="nope\n",
    )  # fmt: skip
    assert isinstance(wrong.exception, ConnectorError)
    assert "BadUserAccessDenied" in str(wrong.exception)


async def test_secured_server_with_an_x509_user_identity(
    secured_plant: PlantSimulator, pki: Pki
) -> None:
    result = await _invoke(
        "read", secured_plant.endpoint, site.LINE_GOOD, "--json", *_secured(pki)[:-2],
        "--user-cert", str(pki.engineer.certificate), "--user-key", str(pki.engineer.private_key),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["quality"] == "good"


async def test_certs_create_writes_a_certificate_and_key(tmp_path: Path) -> None:
    out = tmp_path / "pki"
    result = await _invoke(
        "certs", "create", "--out", str(out), "--application-uri", "urn:plant9:agents",
        "--host", "edge-9", "--days", "90", "--name", "edge",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    certificate = load_certificate(out / "edge.der", "certificate")
    assert (out / "edge.pem").exists()
    assert thumbprint(certificate) in result.output
    assert "urn:plant9:agents" in result.output
    again = await _invoke("certs", "create", "--out", str(out), "--name", "edge")
    assert isinstance(again.exception, ConfigurationError)
