"""`factory-agents init`, the compose file's one-shot job: ledger, signing key, first engineer,
and nothing changed when it runs again."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from factory_agents.commands.init import init_command
from factory_agents.identity import UsersFile, key_id, load_signing_key
from factory_agents.ledger import Ledger
from factory_agents.platform import FIRST_LOGIN


def mode(path: Path) -> int:
    """A file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def test_init_prepares_a_home_once_and_changes_nothing_the_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home, url = tmp_path / "home", f"sqlite:///{tmp_path / 'db' / 'ledger.db'}"
    monkeypatch.setenv("FACTORY_HOME", str(home))
    monkeypatch.setenv("FACTORY_DATABASE_URL", url)

    init_command()
    key = load_signing_key(home)
    first_login = (home / FIRST_LOGIN).read_text()
    assert mode(home / "signing.key") == 0o600 and mode(home / FIRST_LOGIN) == 0o600
    (engineer,) = UsersFile.in_home(home).list_users()
    assert (engineer.id, engineer.roles) == ("engineer", ("engineer",))
    with Ledger.open(url) as ledger:
        assert ledger.list_proposals() == []  # migrated: the tables are there
    said = capsys.readouterr().out
    assert key_id(key) in said and "user 'engineer'" in said

    init_command()
    assert load_signing_key(home) == key
    assert (home / FIRST_LOGIN).read_text() == first_login
    assert [u.id for u in UsersFile.in_home(home).list_users()] == ["engineer"]
    assert "users exist already; none was added" in capsys.readouterr().out
