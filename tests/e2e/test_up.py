"""`factory-agents up` as a user runs it: a proposal, an approval, a saving, a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from factory_agents.settings import Settings
from tests.conftest import free_port
from workflows.devserver import port_is_open

from .helpers import cli, cli_json_now, eventually

pytestmark = pytest.mark.e2e


def up_settings(home: Path) -> dict[str, str]:
    """An accelerated platform on free ports, with its state in `home`."""
    return {
        "FACTORY_HOME": str(home),
        "FACTORY_TEMPORAL_PORT": str(free_port()),
        "FACTORY_TEMPORAL_UI_PORT": str(free_port()),
        "FACTORY_BOARD_PORT": str(free_port()),
        "FACTORY_OPCUA_ENDPOINT": f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/",
        "FACTORY_SIM_SPEED": "50",
        "FACTORY_AGENT_INTERVAL_SECONDS": "4",
        "FACTORY_VERIFICATION_SECONDS": "8",
    }


async def test_up_closes_the_loop_and_stops_every_child(tmp_path: Path) -> None:
    env = up_settings(tmp_path / "home")
    settings = Settings(**{k.removeprefix("FACTORY_").lower(): v for k, v in env.items()})
    log = (tmp_path / "up.log").open("wb")
    up = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "factory_agents", "up", "--headless", "--duration", "150",
        env={**os.environ, **env}, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        proposals = await eventually(
            lambda: cli_json_now(settings, "approvals", "list"), within=120, what="a proposal"
        )
        proposal_id = proposals[0]["id"]
        code, out, err = await cli(settings, "approvals", "approve", proposal_id, "--reason", "ok")
        assert code == 0, err
        assert "executed" in out

        def realized() -> Decimal | None:
            lines = cli_json_now(settings, "ledger", "savings")
            (line,) = [s for s in lines if s["proposal_id"] == proposal_id]
            return None if line["realized_amount"] is None else Decimal(line["realized_amount"])

        amount = await eventually(realized, within=60, what="a realized saving")
        assert amount > 0
    finally:
        if up.returncode is None:
            up.send_signal(signal.SIGTERM)
        await asyncio.wait_for(up.wait(), timeout=60)
        log.close()
    output = (tmp_path / "up.log").read_text()
    for child in ("temporal", "simulator", "worker"):
        assert f"stopped {child}" in output, output
    assert not port_is_open(settings.temporal_port)
    assert not port_is_open(int(settings.opcua_endpoint.rsplit(":", 1)[1].split("/")[0]))
