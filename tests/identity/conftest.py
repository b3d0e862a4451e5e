"""Fixtures for the identity tests: a users file with a cheap hasher and a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory_agents.identity import Role, UsersFile
from tests.identity.helpers import PASSWORD, FakeClock, cheap_hasher


@pytest.fixture
def clock() -> FakeClock:
    """A clock standing at T0 until the test advances it."""
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> UsersFile:
    """A users file in an empty home, cheap hasher, fake clock, default lockout policy."""
    return UsersFile.in_home(tmp_path / "home", hasher=cheap_hasher(), clock=clock)


@pytest.fixture
def alice(store: UsersFile) -> UsersFile:
    """The store with one engineer, alice, on site1/line1."""
    store.add_user(
        "alice",
        full_name="Alice Example",
        roles=[Role.ENGINEER],
        areas=["site1/line1"],
        password=PASSWORD,
    )
    return store
