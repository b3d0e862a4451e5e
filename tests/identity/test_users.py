"""The users file: argon2id hashes, login, password policy, disabled users, safe writes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import Type, extract_parameters

from factory_agents.errors import ConfigurationError
from factory_agents.identity import (
    AuthenticationError,
    Role,
    User,
    UserError,
    UsersFile,
    default_hasher,
)
from tests.identity.helpers import PASSWORD, T0, FakeClock, cheap_hasher


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Run with umask 000, so only the code's own chmod can make files private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_add_user_stores_an_argon2id_hash_never_the_password(alice: UsersFile) -> None:
    text = alice.path.read_text()
    assert PASSWORD not in text
    stored = json.loads(text)["users"][0]
    assert stored["id"] == "alice"
    assert stored["password_hash"].startswith("$argon2id$")
    assert stored["created_at"] == "2025-03-04T08:00:00Z"


def test_authenticate_returns_the_user_for_the_right_password(alice: UsersFile) -> None:
    user = alice.authenticate("alice", PASSWORD)
    assert user.id == "alice"
    assert user.full_name == "Alice Example"
    assert user.roles == (Role.ENGINEER,)
    assert user.areas == ("site1/line1",)


def test_user_ids_are_matched_case_insensitively_at_login(alice: UsersFile) -> None:
    assert alice.authenticate(" Alice ", PASSWORD).id == "alice"


def test_wrong_password_unknown_user_and_malformed_id_read_the_same(alice: UsersFile) -> None:
    messages = []
    for user_id, password in [
        ("alice", PASSWORD + "!"),
        ("bob", PASSWORD),
        ("not a valid id!", PASSWORD),
    ]:
        with pytest.raises(AuthenticationError) as caught:
            alice.authenticate(user_id, password)
        messages.append(str(caught.value))
    assert len(set(messages)) == 1, messages
    assert "user id or password is wrong" in messages[0]
    assert "bob" not in messages[0]


def test_a_disabled_user_is_refused_with_the_same_message(alice: UsersFile) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        alice.authenticate("alice", "not the password at all")
    disabled = alice.disable("alice")
    assert disabled.disabled
    with pytest.raises(AuthenticationError) as caught:
        alice.authenticate("alice", PASSWORD)
    assert str(caught.value) == str(wrong.value)
    alice.enable("alice")
    assert alice.authenticate("alice", PASSWORD).id == "alice"


def test_default_hasher_follows_owasp_argon2id_recommendation() -> None:
    params = extract_parameters(default_hasher().hash("x" * 12))
    assert params.type is Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pw 11", "has 11 characters; use at least 12"),
        ("", "has 0 characters"),
        ("x" * 1025, "longer than 1024"),
        ("carol.smith1", "must not be the user id"),
        ("  CAROL.SMITH1 ", "must not be the user id"),
    ],
)
def test_password_policy(store: UsersFile, password: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        store.add_user(
            "carol.smith1",
            full_name="Carol Smith",
            roles=[Role.ENGINEER],
            areas=["*"],
            password=password,
        )
    assert not store.path.exists()
    assert store.get("carol.smith1") is None


def test_twelve_characters_are_enough(store: UsersFile) -> None:
    store.add_user("dave", full_name="Dave", roles=[Role.ADMIN], areas=["*"], password="x" * 12)
    assert store.authenticate("dave", "x" * 12).id == "dave"


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"user_id": "Alice"}, "user id 'Alice' must be 1 to 64 lowercase"),
        ({"user_id": ""}, "must be 1 to 64 lowercase"),
        ({"areas": ["site1//line1"]}, "areas: area 'site1//line1' is not an ISA-95 path"),
        ({"areas": []}, "areas: "),
        ({"roles": []}, "roles: "),
        ({"roles": ["operator"]}, "roles.0: "),
        ({"full_name": " "}, "full_name: "),
    ],
)
def test_invalid_user_fields_are_named(
    store: UsersFile, fields: dict[str, object], problem: str
) -> None:
    args: dict[str, object] = {
        "user_id": "erin",
        "full_name": "Erin",
        "roles": [Role.ENGINEER],
        "areas": ["site1"],
        "password": PASSWORD,
        **fields,
    }
    with pytest.raises(UserError, match="cannot add this user") as caught:
        store.add_user(**args)  # type: ignore[arg-type]
    assert problem in str(caught.value)
    assert not store.path.exists()


def test_adding_an_existing_id_is_refused_and_keeps_the_first(alice: UsersFile) -> None:
    with pytest.raises(UserError, match=r"exists already.*users passwd alice"):
        alice.add_user(
            "alice", full_name="Other", roles=[Role.ADMIN], areas=["*"], password="another pass 1"
        )
    assert alice.authenticate("alice", PASSWORD).full_name == "Alice Example"


def test_set_password_replaces_the_old_one(alice: UsersFile) -> None:
    alice.set_password("alice", "a new long password")
    with pytest.raises(AuthenticationError):
        alice.authenticate("alice", PASSWORD)
    assert alice.authenticate("alice", "a new long password").id == "alice"
    with pytest.raises(UserError, match="at least 12"):
        alice.set_password("alice", "too short")


def test_admin_operations_on_an_unknown_user_name_the_list_command(store: UsersFile) -> None:
    for operation in (store.disable, store.enable, store.unlock):
        with pytest.raises(UserError, match=r"no user 'ghost'.*users list"):
            operation("ghost")
    with pytest.raises(UserError, match="no user 'ghost'"):
        store.set_password("ghost", PASSWORD)


def test_list_users_is_sorted_and_roles_and_areas_are_deduplicated(store: UsersFile) -> None:
    for user_id in ("zoe", "bob"):
        store.add_user(
            user_id,
            full_name=user_id.title(),
            roles=[Role.ENGINEER, Role.MANAGER, Role.ENGINEER],
            areas=["site1", "site1"],
            password=PASSWORD,
        )
    users = store.list_users()
    assert [u.id for u in users] == ["bob", "zoe"]
    assert users[0].roles == (Role.ENGINEER, Role.MANAGER)
    assert users[0].areas == ("site1",)


def test_a_user_never_shows_its_hash_in_repr(alice: UsersFile) -> None:
    user = alice.get("alice")
    assert user is not None
    assert "argon2" not in repr(user)
    assert "password_hash" not in repr(user)


def test_login_rehashes_when_the_argon2_parameters_changed(
    alice: UsersFile, tmp_path: Path
) -> None:
    old = alice.get("alice")
    assert old is not None and extract_parameters(old.password_hash).time_cost == 1
    stronger = UsersFile(alice.path, hasher=cheap_hasher(time_cost=3), clock=FakeClock())
    stronger.authenticate("alice", PASSWORD)
    new = stronger.get("alice")
    assert new is not None
    assert extract_parameters(new.password_hash).time_cost == 3
    assert new.password_hash != old.password_hash
    assert stronger.authenticate("alice", PASSWORD).id == "alice"
    stronger.authenticate("alice", PASSWORD)
    again = stronger.get("alice")
    assert again is not None and again.password_hash == new.password_hash  # no needless rehash


def test_every_file_is_private_even_with_an_open_umask(open_umask: None, alice: UsersFile) -> None:
    with pytest.raises(AuthenticationError):
        alice.authenticate("alice", "a wrong password")
    for path in (alice.path, alice.logins_path, alice.lock_path):
        assert path.exists(), path
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_a_users_file_others_may_read_is_refused(alice: UsersFile) -> None:
    alice.path.chmod(0o644)
    with pytest.raises(
        ConfigurationError, match=r"may be read or changed by other users.*chmod 600"
    ):
        alice.authenticate("alice", PASSWORD)


def test_writes_replace_the_file_and_leave_no_temporary_files(alice: UsersFile) -> None:
    before = alice.path.stat().st_ino
    with alice.path.open() as reader:  # a reader that opened the file before the write
        alice.disable("alice")
        assert json.load(reader)["users"][0]["disabled"] is False  # sees a whole old file
    assert alice.path.stat().st_ino != before  # replaced, not rewritten in place
    assert json.loads(alice.path.read_text())["users"][0]["disabled"] is True
    assert sorted(p.name for p in alice.path.parent.iterdir()) == [
        "users.json",
        "users.json.lock",
    ]


def test_a_failed_write_keeps_the_old_file_whole(
    alice: UsersFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = alice.path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("factory_agents.identity.users.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        alice.add_user(
            "bob", full_name="Bob", roles=[Role.ENGINEER], areas=["*"], password=PASSWORD
        )
    monkeypatch.undo()
    assert alice.path.read_bytes() == original
    assert alice.get("bob") is None
    assert not [p for p in alice.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_corrupt_users_file_says_how_to_recover(alice: UsersFile) -> None:
    alice.path.write_text("{not json")
    with pytest.raises(ConfigurationError, match=r"is not JSON.*backup"):
        alice.list_users()
    alice.path.write_text(json.dumps({"format": 1, "users": [{"id": "x"}]}))
    with pytest.raises(ConfigurationError, match=r"not valid \(users\.0\.full_name"):
        alice.list_users()


def test_created_at_comes_from_the_injected_clock(store: UsersFile, clock: FakeClock) -> None:
    user = store.add_user(
        "frank", full_name="Frank", roles=[Role.INTEGRATOR], areas=["*"], password=PASSWORD
    )
    assert user.created_at == T0


def test_users_round_trip_through_the_file(alice: UsersFile) -> None:
    reread = UsersFile(alice.path, hasher=cheap_hasher()).get("alice")
    assert isinstance(reread, User)
    assert reread == alice.get("alice")
