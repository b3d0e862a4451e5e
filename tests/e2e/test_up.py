"""`factory-agents up` as a user runs it: board up, a proposal that survives a restart, an
approval, a realized saving, and every child stopped each time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from factory_agents.platform import FIRST_LOGIN, opcua_port
from factory_agents.settings import Settings
from tests.conftest import free_port
from workflows.devserver import port_is_open

from .helpers import board_health, cli, cli_json_now, eventually

pytestmark = pytest.mark.e2e


def up_environment(home: Path) -> dict[str, str]:
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


class Up:
    """One `factory-agents up` process, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, *flags: str) -> None:
        self.env, self.log, self.flags = env, log, flags
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Up:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "factory_agents", "up", *self.flags, "--duration", "150",
                env={**os.environ, **self.env}, stdout=out, stderr=out,
            )  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), timeout=60)


def assert_all_stopped(settings: Settings, log: str, children: tuple[str, ...]) -> None:
    """Every child reported stopped and no port is left open."""
    for child in children:
        assert f"stopped {child}" in log, log
    for port in (settings.temporal_port, opcua_port(settings.opcua_endpoint), settings.board_port):
        assert not port_is_open(port), f"port {port} still open after stopping"


async def test_up_survives_a_restart_closes_the_loop_and_stops_every_child(tmp_path: Path) -> None:
    env = up_environment(tmp_path / "home")
    settings = Settings(**{k.removeprefix("FACTORY_").lower(): v for k, v in env.items()})
    first, second = tmp_path / "first.log", tmp_path / "second.log"

    async with Up(env, first):
        await eventually(lambda: board_health(settings.board_port), within=120, what="the board")
        proposals = await eventually(
            lambda: [
                p for p in cli_json_now(settings, "approvals", "list") if p["agent"] == "spc_drift"
            ],
            within=120,
            what="a drift proposal",
        )
    assert_all_stopped(settings, first.read_text(), ("board", "worker", "simulator", "temporal"))

    proposal_id = proposals[0]["id"]
    async with Up(env, second, "--headless"):
        listed = await eventually(
            lambda: cli_json_now(settings, "approvals", "list"), within=60, what="the relisting"
        )
        assert proposal_id in [p["id"] for p in listed]
        first_login = (settings.home / FIRST_LOGIN).read_text()
        assert (settings.home / FIRST_LOGIN).stat().st_mode & 0o777 == 0o600
        password = first_login.split("password: ", 1)[1].splitlines()[0]
        code, out, err = await cli(
            settings, "approvals", "approve", proposal_id, "--reason", "ok",
            "--user", "engineer", "--password-stdin", stdin=password,
        )  # fmt: skip
        assert code == 0, err
        assert "executed" in out

        def realized() -> Decimal | None:
            lines = cli_json_now(settings, "ledger", "savings")
            (line,) = [s for s in lines if s["proposal_id"] == proposal_id]
            return None if line["realized_amount"] is None else Decimal(line["realized_amount"])

        amount = await eventually(realized, within=60, what="a realized saving")
        assert amount > 0
    assert_all_stopped(settings, second.read_text(), ("worker", "simulator", "temporal"))
