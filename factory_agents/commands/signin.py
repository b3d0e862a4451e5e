"""Who runs a command that needs a signature: the user id, and their password read safely."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Annotated

import typer

from factory_agents.errors import AuthenticationError, AuthorizationError
from factory_agents.identity import Permission, User, UsersFile, may, roles_with
from factory_agents.settings import Settings

UserOption = Annotated[
    str | None, typer.Option("--user", help="Your user id (default: $FACTORY_USER, else login)")
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read your password from the first line of stdin (scripts)"
    ),
]


def user_id(given: str | None) -> str:
    """The user id given, else $FACTORY_USER, else the operating-system login name."""
    return given or os.environ.get("FACTORY_USER") or getpass.getuser()


def read_password(from_stdin: bool, who: str) -> str:
    """The password from stdin's first line, or typed at a hidden prompt on the terminal."""
    if from_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise AuthenticationError(
                "no password on stdin; pipe one line in, or drop --password-stdin"
            )
        return password
    if not sys.stdin.isatty():
        raise AuthenticationError(
            "no terminal to ask for your password; pass --password-stdin and pipe it in"
        )
    return getpass.getpass(f"Password for {who}: ")


def authenticated(settings: Settings, given: str | None, from_stdin: bool) -> tuple[User, str]:
    """Check the user's password against the users file; the user and the password typed."""
    who = user_id(given)
    password = read_password(from_stdin, who)
    return UsersFile.in_home(settings.home).authenticate(who, password), password


def require(user: User, permission: Permission, doing: str) -> None:
    """Raise AuthorizationError unless one of the user's roles grants `permission`."""
    if not may(user.roles, permission):
        allowed = " or ".join(roles_with(permission))
        raise AuthorizationError(
            f"{user.id} ({', '.join(user.roles)}) may not {doing}; only {allowed} may"
        )
