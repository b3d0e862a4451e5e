"""Structured logs: one JSON object per line (or plain text), carrying the ids of the work.

Every line has `time` (UTC, ISO 8601), `level`, `logger` and `message`; when they are known it
also has `proposal_id`, `workflow_id`, `run_id`, `activity` and `attempt`, plus the fixed
fields the process was configured with (a worker's name). Ids come from the `extra` of a
logging call (``log.info("...", extra={"proposal_id": pid})``), from the details Temporal's
``activity.logger`` and ``workflow.logger`` attach to their records (`temporal_activity`,
`temporal_workflow`), or from a `context` function the worker gives (the running activity's
``activity.info()``, for lines of libraries that know nothing of Temporal); so this module
needs no Temporal import::

    {"time": "2025-03-04T08:00:00.125Z", "level": "info", "logger": "temporalio.activity",
     "message": "executed action a-p-1", "worker": "worker-a", "proposal_id": "p-1",
     "workflow_id": "p-1", "run_id": "…", "activity": "execute_action", "attempt": 1}
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]

ID_FIELDS = ("proposal_id", "workflow_id", "run_id", "activity", "attempt", "action_id", "agent")
"""Fields a logging call may pass in `extra`; they appear in that order after the message."""

QUIET_LOGGERS = ("asyncua", "httpx", "httpcore", "alembic", "urllib3")
"""Libraries whose INFO lines would drown the platform's own: they log warnings and worse."""

_HANDLER_NAME = "factory-agents"


Context = Callable[[], Mapping[str, Any]]
"""Ids of the work the logging code runs in (e.g. the current Temporal activity's)."""


class _Ids(logging.Filter):
    """Adds to each record the ids it carries, as a `factory_ids` dict (never drops one)."""

    def __init__(
        self, fields: Mapping[str, str], proposal_workflows: Collection[str], context: Context
    ) -> None:
        super().__init__()
        self.fields = dict(fields)
        self.proposal_workflows = frozenset(proposal_workflows)
        self.context = context

    def filter(self, record: logging.LogRecord) -> bool:
        ids = ids_of(record, self.proposal_workflows)
        record.factory_ids = {**self.fields, **self.context(), **ids}
        return True


def ids_of(record: logging.LogRecord, proposal_workflows: Collection[str] = ()) -> dict[str, Any]:
    """The ids a record carries: Temporal's activity or workflow details, then its `extra`."""
    ids: dict[str, Any] = {}
    workflow = getattr(record, "temporal_workflow", None)
    if isinstance(workflow, Mapping):
        ids["workflow_id"] = workflow.get("workflow_id")
        ids["run_id"] = workflow.get("run_id")
        if workflow.get("workflow_type") in proposal_workflows:
            ids["proposal_id"] = workflow.get("workflow_id")  # one workflow per proposal
    activity = getattr(record, "temporal_activity", None)
    if isinstance(activity, Mapping):
        ids["workflow_id"] = activity.get("workflow_id")
        ids["run_id"] = activity.get("workflow_run_id")
        ids["activity"] = activity.get("activity_type")
        ids["attempt"] = activity.get("attempt")
        if activity.get("workflow_type") in proposal_workflows:
            ids["proposal_id"] = activity.get("workflow_id")
    for name in ID_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            ids[name] = value
    return {name: value for name, value in ids.items() if value is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and any error."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        at = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "factory_ids", None) or ids_of(record))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Time, level, logger and message, then the ids as key=value pairs."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as one readable line (and its traceback, if any)."""
        line = super().format(record)
        ids = getattr(record, "factory_ids", None) or ids_of(record)
        if not ids:
            return line
        head, _, rest = line.partition("\n")
        pairs = " ".join(f"{name}={value}" for name, value in ids.items())
        return f"{head} [{pairs}]" + (f"\n{rest}" if rest else "")


def configure_logging(
    log_format: LogFormat = "text",
    *,
    level: str = "INFO",
    fields: Mapping[str, str] | None = None,
    proposal_workflows: Collection[str] = (),
    context: Context | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to `stream` (stderr) as JSON lines or text; returns the handler.

    `fields` are added to every line (e.g. the worker's name); a workflow of a type in
    `proposal_workflows` has its workflow id logged as the proposal id too; `context` gives
    the ids of the work a line is logged in, for libraries that know nothing of them.
    Calling it again replaces the handler it installed before.
    """
    if log_format not in ("text", "json"):
        raise ValueError(f"log format {log_format!r} is neither 'text' nor 'json'")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_Ids(fields or {}, proposal_workflows, context or dict))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.WARNING, logging.getLevelName(level))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    return handler
