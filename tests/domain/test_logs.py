"""Structured logs: a worker's lines carry its name and the ids of the work, as JSON or text."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio import activity, workflow
from temporalio.testing import ActivityEnvironment

from factory_agents.ledger import Ledger
from factory_agents.logs import configure_logging
from factory_agents.registry import build_agents
from factory_agents.settings import Settings
from factory_agents.site import DEFAULT_POLICY, default_agent_configs
from tests.factories import build_proposal, signature
from workflows.activities import PlantActivities
from workflows.contracts import RecordDecisionInput
from workflows.worker import configure_worker_logs


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave the root logger and Temporal's loggers as they were."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    asyncua = logging.getLogger("asyncua").level
    on_message = (
        activity.logger.activity_info_on_message,
        workflow.logger.workflow_info_on_message,
    )
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("asyncua").setLevel(asyncua)
    activity.logger.activity_info_on_message, workflow.logger.workflow_info_on_message = on_message


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed as JSON (each must be)."""
    return [json.loads(line) for line in text.splitlines() if line]


async def test_an_activity_logs_one_json_line_with_worker_proposal_workflow_and_activity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_worker_logs(Settings(home=tmp_path, log_format="json", worker_name="worker-7"))
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        activities = PlantActivities(
            Settings(home=tmp_path), ledger, build_agents(default_agent_configs()), DEFAULT_POLICY
        )
        proposal = build_proposal("p-log-1")
        expires = proposal.created_at + timedelta(hours=1)
        ledger.record_proposal(proposal, run_id=None, expires_at=expires)
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info,
            activity_type="record_decision",
            workflow_id="p-log-1",
            workflow_run_id="run-9",
            workflow_type="ProposalWorkflow",
            attempt=2,
        )
        inp = RecordDecisionInput(proposal_id="p-log-1", signature=signature(proposal))
        assert await env.run(activities.record_decision, inp)
        activities.close()
    (line,) = [
        entry for entry in json_lines(capsys.readouterr().err) if entry["logger"] != "alembic"
    ]
    assert line["message"] == "recorded approve by ana (signed); decision complete: True"
    assert line["level"] == "info" and line["time"].endswith("Z")
    assert line["logger"] == "temporalio.activity"
    assert {k: line[k] for k in ("worker", "proposal_id", "workflow_id", "run_id")} == {
        "worker": "worker-7",
        "proposal_id": "p-log-1",
        "workflow_id": "p-log-1",
        "run_id": "run-9",
    }
    assert (line["activity"], line["attempt"]) == ("record_decision", 2)


async def test_lines_of_other_loggers_inside_an_activity_get_its_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_worker_logs(Settings(log_format="json", worker_name="worker-7"))
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, activity_type="notify", workflow_id="p-2", workflow_run_id="run-2",
        workflow_type="ProposalWorkflow",
    )  # fmt: skip

    async def notify() -> None:
        await asyncio.to_thread(logging.getLogger("factory_agents.notify").info, "posted")

    await env.run(notify)
    logging.getLogger("factory_agents.notify").info("outside")
    inside, outside = json_lines(capsys.readouterr().err)
    assert {k: inside.get(k) for k in ("proposal_id", "workflow_id", "run_id", "activity")} == {
        "proposal_id": "p-2",
        "workflow_id": "p-2",
        "run_id": "run-2",
        "activity": "notify",
    }
    assert set(outside) == {"time", "level", "logger", "message", "worker"}


def test_a_proposal_workflows_lines_name_the_proposal() -> None:
    out = io.StringIO()
    configure_logging("json", proposal_workflows={"ProposalWorkflow"}, stream=out)
    details = {"workflow_id": "p-9", "run_id": "r-1", "workflow_type": "ProposalWorkflow"}
    logging.getLogger("temporalio.workflow").info("expired", extra={"temporal_workflow": details})
    other = {"workflow_id": "run-agent-3", "run_id": "r-2", "workflow_type": "AgentRunWorkflow"}
    logging.getLogger("temporalio.workflow").info("ran", extra={"temporal_workflow": other})
    first, second = json_lines(out.getvalue())
    assert (first["proposal_id"], first["workflow_id"], first["run_id"]) == ("p-9", "p-9", "r-1")
    assert "proposal_id" not in second and second["workflow_id"] == "run-agent-3"


def test_errors_are_kept_whole_in_json_and_text() -> None:
    for log_format in ("json", "text"):
        out = io.StringIO()
        configure_logging(log_format, fields={"worker": "w"}, stream=out)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("x").exception("failed", extra={"proposal_id": "p-1"})
        text = out.getvalue()
        if log_format == "json":
            (line,) = json_lines(text)
            assert line["message"] == "failed" and "RuntimeError: boom" in line["error"]
        else:
            head, *trace = text.splitlines()
            assert head.endswith("ERROR x: failed [worker=w proposal_id=p-1]")
            assert trace[-1] == "RuntimeError: boom"


def test_configuring_again_replaces_the_handler_and_quietens_libraries() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("text", stream=first)
    configure_logging("json", stream=second)
    logging.getLogger("factory").info("once")
    logging.getLogger("asyncua.client").info("chatter")
    logging.getLogger("asyncua.client").warning("lost the server")
    assert first.getvalue() == ""
    assert [line["message"] for line in json_lines(second.getvalue())] == [
        "once",
        "lost the server",
    ]


def test_log_format_and_level_come_from_the_environment_in_any_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACTORY_LOG_FORMAT", "JSON")
    monkeypatch.setenv("FACTORY_LOG_LEVEL", "debug")
    assert (Settings().log_format, Settings().log_level) == ("json", "DEBUG")
    monkeypatch.setenv("FACTORY_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings()
