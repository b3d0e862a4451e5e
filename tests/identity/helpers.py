"""Helpers for the identity tests: a cheap argon2 hasher and a clock moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, Type

T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def cheap_hasher(time_cost: int = 1) -> PasswordHasher:
    """argon2id with tiny parameters, so a test hashes in well under a millisecond."""
    return PasswordHasher(time_cost=time_cost, memory_cost=8, parallelism=1, type=Type.ID)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
