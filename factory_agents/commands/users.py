"""`factory-agents users`: add, list, disable, enable, unlock users and set their passwords."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from factory_agents.errors import UserError
from factory_agents.identity.roles import Role
from factory_agents.identity.users import LoginState, User, UsersFile, utc_now
from factory_agents.settings import Settings

users_app = typer.Typer(
    help="Users of the embedded login: roles, areas, passwords (argon2id) and lockouts.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)

UserId = Annotated[str, typer.Argument(help="The login id, e.g. 'jdoe'")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (for scripts)"
    ),
]


def _store() -> UsersFile:
    """The users file in FACTORY_HOME."""
    return UsersFile.in_home(Settings().home)


def _read_password(from_stdin: bool) -> str:
    """A new password: the first line of stdin, or typed twice at a hidden prompt."""
    if not from_stdin:
        typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return typed
    password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not password:
        raise UserError('no password on stdin; pipe one line in, e.g. `echo "$PW" | ...`')
    return password


@users_app.command("add")
def users_add(
    user_id: UserId,
    full_name: Annotated[str, typer.Option("--full-name", help="Name shown on signatures")],
    role: Annotated[
        list[Role], typer.Option("--role", help="A role; repeat for several", show_choices=True)
    ],
    area: Annotated[
        list[str], typer.Option("--area", help="ISA-95 path like site1/line1, or '*'; repeat")
    ],
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user; the password is asked twice (hidden) unless --password-stdin."""
    store = _store()
    store.check_new_user(user_id, full_name=full_name, roles=role, areas=area)
    password = _read_password(password_stdin)
    user = store.add_user(user_id, full_name=full_name, roles=role, areas=area, password=password)
    console.print(
        f"added {user.id} ({user.full_name}): {', '.join(user.roles)} in {', '.join(user.areas)}"
    )


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Every user with roles, areas and status; password hashes are never shown."""
    store = _store()
    users, states = store.list_users(), store.login_states()
    if as_json:
        rows = [_row(u, states.get(u.id)) for u in users]
        print(json.dumps(rows, indent=2))
        return
    if not users:
        console.print("No users yet; `factory-agents users add ID ...` adds one.")
        return
    table = Table("id", "full name", "roles", "areas", "status", "created")
    for user in users:
        row = _row(user, states.get(user.id))
        table.add_row(
            user.id,
            user.full_name,
            ", ".join(user.roles),
            ", ".join(user.areas),
            str(row["status"]),
            f"{user.created_at:%Y-%m-%d %H:%M} UTC",
        )
    console.print(table)


@users_app.command("disable")
def users_disable(user_id: UserId) -> None:
    """Refuse every future login of a user (kept, never deleted, for the audit trail)."""
    _store().disable(user_id)
    console.print(f"{user_id} disabled: logins are refused; `users enable {user_id}` undoes it")


@users_app.command("enable")
def users_enable(user_id: UserId) -> None:
    """Allow a disabled user to log in again."""
    _store().enable(user_id)
    console.print(f"{user_id} enabled")


@users_app.command("unlock")
def users_unlock(user_id: UserId) -> None:
    """Clear a user's failed logins and lockout."""
    cleared = _store().unlock(user_id)
    if cleared is None:
        console.print(f"{user_id} had no failed logins; nothing to unlock")
    else:
        console.print(f"{user_id} unlocked ({cleared.failures} failed logins cleared)")


@users_app.command("passwd")
def users_passwd(user_id: UserId, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password (asked twice, hidden, unless --password-stdin); clears lockout."""
    store = _store()
    if store.get(user_id) is None:  # say so before asking for a password
        raise UserError(f"no user {user_id!r}; `factory-agents users list` shows every user")
    store.set_password(user_id, _read_password(password_stdin))
    console.print(f"password of {user_id} changed")


def _row(user: User, state: LoginState | None) -> dict[str, object]:
    """A user as plain data for tables and JSON, without the password hash."""
    now = utc_now()
    locked_until = state.locked_until if state is not None and state.locked(now) else None
    if user.disabled:
        status = "disabled"
    elif locked_until is not None:
        status = f"locked until {locked_until:%H:%M} UTC"
    else:
        status = "active"
    return {
        "id": user.id,
        "full_name": user.full_name,
        "roles": list(user.roles),
        "areas": list(user.areas),
        "disabled": user.disabled,
        "status": status,
        "locked_until": locked_until.isoformat() if locked_until else None,
        "failed_logins": state.failures if state is not None else 0,
        "created_at": user.created_at.isoformat(),
    }
