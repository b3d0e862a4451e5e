"""Lockout after repeated failed logins: counted, expiring, shared by every process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from factory_agents.identity import AuthenticationError, LockoutPolicy, Role, UsersFile
from tests.identity.helpers import PASSWORD, FakeClock, cheap_hasher

WRONG = "a wrong password"


def _fail(store: UsersFile, user_id: str = "alice", times: int = 1) -> str:
    """Log in with a wrong password `times` times; the last refusal's message."""
    message = ""
    for _ in range(times):
        with pytest.raises(AuthenticationError) as caught:
            store.authenticate(user_id, WRONG)
        message = str(caught.value)
    return message


def test_five_failures_lock_even_the_right_password_out(alice: UsersFile) -> None:
    assert "user id or password is wrong" in _fail(alice, times=4)
    fifth = _fail(alice)
    assert "too many failed attempts for 'alice'" in fifth
    assert "locked until 2025-03-04 08:15 UTC" in fifth
    assert "factory-agents users unlock alice" in fifth
    with pytest.raises(AuthenticationError, match="too many failed attempts"):
        alice.authenticate("alice", PASSWORD)
    state = alice.login_states()["alice"]
    assert state.failures == 5


def test_the_lock_expires_after_the_lockout_period(alice: UsersFile, clock: FakeClock) -> None:
    _fail(alice, times=5)
    clock.advance(timedelta(minutes=14, seconds=59))
    with pytest.raises(AuthenticationError, match="too many failed attempts"):
        alice.authenticate("alice", PASSWORD)
    clock.advance(timedelta(seconds=1))
    assert alice.authenticate("alice", PASSWORD).id == "alice"
    assert alice.login_states() == {}


def test_after_the_lock_expires_counting_starts_again(alice: UsersFile, clock: FakeClock) -> None:
    _fail(alice, times=5)
    clock.advance(timedelta(minutes=15))
    assert "user id or password is wrong" in _fail(alice)
    assert alice.login_states()["alice"].failures == 1


def test_a_successful_login_resets_the_count(alice: UsersFile) -> None:
    _fail(alice, times=4)
    alice.authenticate("alice", PASSWORD)
    assert "alice" not in alice.login_states()
    assert "user id or password is wrong" in _fail(alice, times=4)
    assert alice.authenticate("alice", PASSWORD).id == "alice"


def test_failures_outside_the_window_do_not_add_up(alice: UsersFile, clock: FakeClock) -> None:
    _fail(alice, times=4)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert alice.login_states() == {}  # stale failures no longer count
    assert "user id or password is wrong" in _fail(alice)
    assert alice.login_states()["alice"].failures == 1
    assert alice.authenticate("alice", PASSWORD).id == "alice"


def test_unknown_ids_lock_out_the_same_way_so_nothing_tells_who_exists(alice: UsersFile) -> None:
    known = _fail(alice, "alice", times=5)
    unknown = _fail(alice, "mallory", times=5)
    assert unknown == known.replace("alice", "mallory")
    with pytest.raises(AuthenticationError, match="too many failed attempts for 'mallory'"):
        alice.authenticate("mallory", PASSWORD)


def test_unlock_clears_the_lock(alice: UsersFile) -> None:
    _fail(alice, times=5)
    cleared = alice.unlock("alice")
    assert cleared is not None and cleared.failures == 5
    assert alice.authenticate("alice", PASSWORD).id == "alice"
    assert alice.unlock("alice") is None


def test_a_new_password_clears_the_lock(alice: UsersFile) -> None:
    _fail(alice, times=5)
    alice.set_password("alice", "a brand new password")
    assert alice.authenticate("alice", "a brand new password").id == "alice"


def test_the_policy_is_configurable(store: UsersFile, clock: FakeClock) -> None:
    strict = UsersFile(
        store.path,
        hasher=cheap_hasher(),
        clock=clock,
        lockout=LockoutPolicy(max_failures=2, duration=timedelta(hours=1)),
    )
    strict.add_user("gus", full_name="Gus", roles=[Role.ENGINEER], areas=["*"], password=PASSWORD)
    assert "after 2 failed attempts" in _fail(strict, "gus")
    assert "locked until 2025-03-04 09:00 UTC" in _fail(strict, "gus")


def test_two_stores_on_the_same_file_share_the_lockout(alice: UsersFile, clock: FakeClock) -> None:
    board = UsersFile(alice.path, hasher=cheap_hasher(), clock=clock)
    cli = UsersFile(alice.path, hasher=cheap_hasher(), clock=clock)
    _fail(board, times=3)
    _fail(cli, times=1)
    assert board.login_states()["alice"].failures == 4
    assert "too many failed attempts" in _fail(board)
    with pytest.raises(AuthenticationError, match="too many failed attempts"):
        cli.authenticate("alice", PASSWORD)
    cli.unlock("alice")
    assert board.authenticate("alice", PASSWORD).id == "alice"


_GUESSER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from argon2 import PasswordHasher
    from factory_agents.identity import AuthenticationError, LockoutPolicy, UsersFile

    path, me, other, attempts = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = UsersFile(
        path,
        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        lockout=LockoutPolicy(max_failures=10_000),
    )
    (path.parent / me).touch()
    deadline = time.monotonic() + 30
    while not (path.parent / other).exists() and time.monotonic() < deadline:
        time.sleep(0.005)  # start guessing together with the other process
    for _ in range(attempts):
        try:
            store.authenticate("alice", "a wrong password")
        except AuthenticationError:
            pass
    """
)


def test_parallel_processes_lose_no_failed_login(alice: UsersFile) -> None:
    attempts = 60
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _GUESSER, str(alice.path), me, other, str(attempts)],
            cwd=Path(__file__).parents[2],
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in (("ready-a", "ready-b"), ("ready-b", "ready-a"))
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    reader = UsersFile(
        alice.path, hasher=cheap_hasher(), lockout=LockoutPolicy(max_failures=10_000)
    )
    assert reader.login_states()["alice"].failures == 2 * attempts
