"""Who is using this board session: sign-in, roles, and the lock after 15 minutes idle.

The signed-in user lives in the session's state on the server, never in the browser. Every
full run checks the time of the last interaction first: after IDLE_LIMIT without one, the
session is locked (its state cleared, nothing sensitive kept) and only the login page is
served. Self-refreshing parts (fragments) check too, but do not count as interaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import streamlit as st

from factory_agents.errors import FactoryAgentsError
from factory_agents.identity import Permission, Role, User, UsersFile, may
from factory_agents.settings import Settings

IDLE_LIMIT = timedelta(minutes=15)
USER_KEY = "board_user"
ACTIVITY_KEY = "board_last_activity"
NOTICE_KEY = "board_notice"
LOGIN_ERROR_KEY = "board_login_error"
LOGIN_USER_KEY = "login_user"
LOGIN_PASSWORD_KEY = "login_password"
LOCKED_NOTICE = (
    "Your session was locked after 15 minutes without activity. Log in again to continue."
)
SIGNED_OUT_NOTICE = "You signed out."


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


clock: Callable[[], datetime] = utc_now
"""The board's clock (tests put a clock they move by hand in its place)."""


@dataclass(frozen=True)
class BoardUser:
    """The person signed in to this session: id, name, roles, areas, and how they signed in."""

    id: str
    full_name: str
    roles: tuple[Role, ...]
    areas: tuple[str, ...]
    method: Literal["password", "oidc"] = "password"

    @classmethod
    def of(cls, user: User, method: Literal["password", "oidc"] = "password") -> BoardUser:
        """The board's view of a user from the users file."""
        return cls(user.id, user.full_name, user.roles, user.areas, method)

    def may(self, permission: Permission) -> bool:
        """Whether one of the user's roles carries `permission`."""
        return may(self.roles, permission)

    @property
    def role_names(self) -> str:
        """The roles as people read them: `engineer, manager`."""
        return ", ".join(str(role) for role in self.roles)


def users_file() -> UsersFile:
    """The users file of the platform's FACTORY_HOME (shared lockout with the CLI)."""
    return UsersFile.in_home(Settings().home)


def start(user: BoardUser) -> None:
    """Make `user` this session's user, active now."""
    st.session_state[USER_KEY] = user
    st.session_state[ACTIVITY_KEY] = clock()
    st.session_state.pop(NOTICE_KEY, None)
    st.session_state.pop(LOGIN_ERROR_KEY, None)


def sign_in() -> None:
    """Login form callback: check the id and password (with lockout); start the session."""
    user_id = str(st.session_state.get(LOGIN_USER_KEY, "")).strip().lower()
    password = str(st.session_state.get(LOGIN_PASSWORD_KEY, ""))
    st.session_state[LOGIN_PASSWORD_KEY] = ""
    if not user_id or not password:
        st.session_state[LOGIN_ERROR_KEY] = "Enter your user id and your password."
        return
    try:
        user = users_file().authenticate(user_id, password)
    except FactoryAgentsError as err:
        st.session_state[LOGIN_ERROR_KEY] = str(err)
        return
    start(BoardUser.of(user))


def clear(notice: str | None) -> None:
    """Forget everything this session holds, then keep only `notice` for the login page."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state[NOTICE_KEY] = notice


def sign_out() -> None:
    """Sign-out button callback: forget the session (and the identity provider's login)."""
    oidc = _signed_in_with_oidc()
    clear(SIGNED_OUT_NOTICE)
    if oidc:
        st.logout()


def current_user() -> BoardUser | None:
    """The session's user, or None (locking the session first when it has been idle too long)."""
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, BoardUser):
        from dashboards.oidc import identity_provider_user

        found = identity_provider_user()
        if found is not None:
            start(found)
        return found
    last = st.session_state.get(ACTIVITY_KEY)
    if not isinstance(last, datetime) or clock() - last > IDLE_LIMIT:
        lock()
        return None
    return user


def lock() -> None:
    """Lock an idle session: clear it, and sign out of the identity provider too."""
    oidc = _signed_in_with_oidc()
    clear(LOCKED_NOTICE)
    if oidc:
        st.logout()


def touch() -> None:
    """Note an interaction now (full runs and widget callbacks; not self-refreshes)."""
    if isinstance(st.session_state.get(USER_KEY), BoardUser):
        st.session_state[ACTIVITY_KEY] = clock()


def live_part_allowed() -> bool:
    """For self-refreshing fragments: True while signed in; else ask for a full rerun."""
    if current_user() is not None:
        return True
    st.rerun()
    return False  # pragma: no cover - st.rerun() does not return


def require(permission: Permission | None = None) -> BoardUser:
    """The signed-in user, if they hold `permission`; otherwise say why and stop the page."""
    user = current_user()
    if user is None:
        st.error("Log in to see this page.")
        st.stop()
    assert user is not None
    if permission is not None and not user.may(permission):
        st.error(f"Your role ({user.role_names}) may not {permission.value.replace('_', ' ')}.")
        st.stop()
    return user


def _signed_in_with_oidc() -> bool:
    """Whether this session's user came through the identity provider (st.login)."""
    user = st.session_state.get(USER_KEY)
    return isinstance(user, BoardUser) and user.method == "oidc"
