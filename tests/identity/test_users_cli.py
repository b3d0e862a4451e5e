"""`factory-agents users ...` through Typer's CliRunner, on a users file in FACTORY_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from argon2 import extract_parameters
from typer.testing import CliRunner, Result

from factory_agents.commands.users import users_app
from factory_agents.identity import AuthenticationError, Role, UserError, UsersFile
from tests.identity.helpers import PASSWORD

app = typer.Typer()
app.add_typer(users_app, name="users")
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty FACTORY_HOME."""
    monkeypatch.setenv("FACTORY_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _users(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["users", *args], input=input, env={"COLUMNS": "200"})


def _add_alice() -> Result:
    result = _users(
        "add", "alice", "--full-name", "Alice Example",
        "--role", "engineer", "--role", "manager",
        "--area", "site1/line1", "--area", "site2",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def test_add_asks_twice_and_stores_a_strong_argon2id_hash(home: Path) -> None:
    result = _add_alice()
    assert "added alice (Alice Example): engineer, manager in site1/line1, site2" in result.output
    assert PASSWORD not in result.output  # the prompt hides what is typed
    store = UsersFile.in_home(home)
    user = store.authenticate("alice", PASSWORD)
    assert user.roles == (Role.ENGINEER, Role.MANAGER)
    assert user.areas == ("site1/line1", "site2")
    params = extract_parameters(user.password_hash)
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)


def test_add_with_password_stdin_for_scripts(home: Path) -> None:
    result = _users(
        "add", "bot.ops", "--full-name", "Ops Script", "--role", "integrator", "--area", "*",
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    assert UsersFile.in_home(home).authenticate("bot.ops", PASSWORD).areas == ("*",)


def test_add_with_an_empty_stdin_is_refused(home: Path) -> None:
    result = _users(
        "add", "bob", "--full-name", "Bob", "--role", "engineer", "--area", "*",
        "--password-stdin", input="",
    )  # fmt: skip
    assert isinstance(result.exception, UserError)
    assert "no password on stdin" in str(result.exception)


def test_add_refuses_mismatched_passwords(home: Path) -> None:
    result = _users(
        "add", "bob", "--full-name", "Bob", "--role", "engineer", "--area", "*",
        input=f"{PASSWORD}\n{PASSWORD}x\n",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert UsersFile.in_home(home).get("bob") is None


def test_add_refuses_a_weak_password_with_the_policy(home: Path) -> None:
    result = _users(
        "add", "bob", "--full-name", "Bob", "--role", "engineer", "--area", "*",
        input="short\nshort\n",
    )  # fmt: skip
    assert isinstance(result.exception, UserError)
    assert "use at least 12" in str(result.exception)
    assert not (home / "users.json").exists()


def test_add_checks_the_user_before_asking_for_a_password(home: Path) -> None:
    _add_alice()
    for args, problem in [
        (["alice", "--area", "*"], "user 'alice' exists already"),
        (["bob", "--area", "site1//line1"], "areas: area 'site1//line1' is not an ISA-95 path"),
    ]:
        result = _users(
            "add", args[0], "--full-name", "Bob", "--role", "engineer", *args[1:],
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )  # fmt: skip
        assert isinstance(result.exception, UserError)
        assert problem in str(result.exception)
        assert "Password" not in result.output


def test_add_refuses_an_unknown_role_as_a_usage_error(home: Path) -> None:
    result = _users(
        "add", "bob", "--full-name", "Bob", "--role", "operator", "--area", "*",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "operator" in result.output
    assert "engineer" in result.output  # the choices are shown


def test_add_needs_a_role_and_an_area(home: Path) -> None:
    result = _users("add", "bob", "--full-name", "Bob", "--area", "*")
    assert result.exit_code == 2
    assert "--role" in result.output


def test_list_shows_users_and_never_hashes(home: Path) -> None:
    _add_alice()
    table = _users("list")
    assert table.exit_code == 0, table.output
    assert "alice" in table.output and "Alice Example" in table.output
    assert "active" in table.output
    as_json = _users("list", "--json")
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert rows == [
        {
            "id": "alice",
            "full_name": "Alice Example",
            "roles": ["engineer", "manager"],
            "areas": ["site1/line1", "site2"],
            "disabled": False,
            "status": "active",
            "locked_until": None,
            "failed_logins": 0,
            "created_at": rows[0]["created_at"],
        }
    ]
    for output in (table.output, as_json.output):
        assert "argon2" not in output
        assert "hash" not in output


def test_list_without_users_says_how_to_add_one(home: Path) -> None:
    result = _users("list")
    assert result.exit_code == 0
    assert "users add" in result.output


def test_disable_and_enable(home: Path) -> None:
    _add_alice()
    result = _users("disable", "alice")
    assert result.exit_code == 0, result.output
    assert json.loads(_users("list", "--json").stdout)[0]["status"] == "disabled"
    with pytest.raises(AuthenticationError):
        UsersFile.in_home(home).authenticate("alice", PASSWORD)
    assert _users("enable", "alice").exit_code == 0
    assert UsersFile.in_home(home).authenticate("alice", PASSWORD).id == "alice"


def test_unlock_after_a_lockout(home: Path) -> None:
    _add_alice()
    store = UsersFile.in_home(home)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            store.authenticate("alice", "a wrong password")
    row = json.loads(_users("list", "--json").stdout)[0]
    assert row["status"].startswith("locked until")
    assert row["failed_logins"] == 5
    result = _users("unlock", "alice")
    assert result.exit_code == 0, result.output
    assert "5 failed logins cleared" in result.output
    assert store.authenticate("alice", PASSWORD).id == "alice"
    assert "nothing to unlock" in _users("unlock", "alice").output


def test_passwd_sets_a_new_password(home: Path) -> None:
    _add_alice()
    new = "another long password"
    result = _users("passwd", "alice", input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    store = UsersFile.in_home(home)
    assert store.authenticate("alice", new).id == "alice"
    with pytest.raises(AuthenticationError):
        store.authenticate("alice", PASSWORD)


@pytest.mark.parametrize("command", ["disable", "enable", "unlock", "passwd"])
def test_commands_on_an_unknown_user_say_how_to_list_users(home: Path, command: str) -> None:
    result = _users(command, "ghost", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert isinstance(result.exception, UserError)
    assert "no user 'ghost'" in str(result.exception)
    assert "Password" not in result.output  # refused before asking for a password


def test_the_users_file_lives_in_factory_home(home: Path) -> None:
    _add_alice()
    assert (home / "users.json").exists()
    assert not Path("users.json").exists()
