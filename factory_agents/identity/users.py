"""Users and their passwords: a JSON users file in FACTORY_HOME, argon2id hashes, lockout.

Three files sit side by side (all 0600, replaced atomically):

- `users.json`         who may log in: ids, names, roles, areas, argon2id hashes
- `users.logins.json`  failed-login counts and lockouts, shared by every process (board, CLI)
- `users.json.lock`    never replaced; every read-modify-write holds `fcntl.flock` on it

A login holds the lock from reading the lockout state to writing it back, password check
included, so parallel guesses from several processes are counted one by one and cannot
exceed the limit. Unknown user ids are counted and locked like known ones, and every refusal
reads the same, so nothing tells whether a user id exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from factory_agents.errors import AuthenticationError, ConfigurationError, UserError
from factory_agents.identity.roles import Role, check_area

USERS_FILE = "users.json"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
USER_ID_PATTERN = r"[a-z0-9][a-z0-9._-]{0,63}"
_USER_ID = re.compile(USER_ID_PATTERN)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def default_hasher() -> PasswordHasher:
    """argon2id with OWASP's recommended parameters: 19 MiB memory, 2 iterations, 1 lane."""
    return PasswordHasher(
        time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
    )


def check_password_policy(user_id: str, password: str) -> None:
    """Raise UserError unless the password has 12 to 1024 characters and is not the user id."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}"
            " (a phrase of several words is easy to remember)"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters; shorten it")
    if password.strip().casefold() == user_id.strip().casefold():
        raise UserError("the password must not be the user id; choose another one")


class User(BaseModel):
    """Someone who may log in: roles, areas (ISA-95 paths or "*") and an argon2id hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    full_name: str = Field(min_length=1, max_length=200)
    roles: tuple[Role, ...] = Field(min_length=1)
    areas: tuple[str, ...] = Field(min_length=1)
    password_hash: str = Field(repr=False)
    disabled: bool = False
    created_at: AwareDatetime

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _USER_ID.fullmatch(value):
            raise ValueError(
                f"user id {value!r} must be 1 to 64 lowercase letters, digits, '.', '_' or '-',"
                " starting with a letter or digit (like 'jdoe' or 'j.doe')"
            )
        return value

    @field_validator("full_name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if value != value.strip() or not value.isprintable():
            raise ValueError("write the full name without leading/trailing spaces or tabs")
        return value

    @field_validator("roles", "areas")
    @classmethod
    def _no_repeats(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(dict.fromkeys(value))

    @field_validator("areas")
    @classmethod
    def _valid_areas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_area(a) for a in value)

    @field_validator("created_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class LockoutPolicy(BaseModel):
    """After `max_failures` failed logins in a row within `window`, refuse for `duration`."""

    model_config = ConfigDict(frozen=True)

    max_failures: int = Field(5, ge=1)
    window: timedelta = timedelta(minutes=15)
    duration: timedelta = timedelta(minutes=15)


class LoginState(BaseModel):
    """Failed logins in a row for one user id, since when, and until when it is locked."""

    model_config = ConfigDict(frozen=True)

    failures: int = Field(ge=0)
    first_failure_at: AwareDatetime
    locked_until: AwareDatetime | None = None

    def locked(self, now: datetime) -> bool:
        """Whether logins for this id are refused at `now`."""
        return self.locked_until is not None and now < self.locked_until


class _UsersDocument(BaseModel):
    format: Literal[1] = 1
    users: list[User]


class _LoginsDocument(BaseModel):
    format: Literal[1] = 1
    logins: dict[str, LoginState]


class UsersFile:
    """The embedded user store: a users file with argon2id hashes and a shared lockout state."""

    def __init__(
        self,
        path: Path,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
        lockout: LockoutPolicy | None = None,
    ) -> None:
        self.path = path
        self.logins_path = path.with_name(f"{path.stem}.logins.json")
        self.lock_path = path.with_name(f"{path.name}.lock")
        self._hasher = hasher or default_hasher()
        self._clock = clock
        self._lockout = lockout or LockoutPolicy()
        self._dummy_hash: str | None = None

    @classmethod
    def in_home(
        cls,
        home: Path,
        *,
        hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
        lockout: LockoutPolicy | None = None,
    ) -> UsersFile:
        """The users file of a FACTORY_HOME folder (`home/users.json`)."""
        return cls(home / USERS_FILE, hasher=hasher, clock=clock, lockout=lockout)

    # -- reading -------------------------------------------------------------------------

    def get(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        return self._read_users().get(user_id)

    def list_users(self) -> list[User]:
        """Every user, sorted by id."""
        return sorted(self._read_users().values(), key=lambda u: u.id)

    def login_states(self) -> dict[str, LoginState]:
        """Failed-login counts and lockouts per user id (current ones only)."""
        now = self._clock()
        return {k: v for k, v in self._read_logins().items() if self._current(v, now)}

    # -- administration ------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        full_name: str,
        roles: Iterable[Role],
        areas: Iterable[str],
        password: str,
    ) -> User:
        """Add a user with an argon2id hash of their password; UserError if the id exists."""
        roles, areas = tuple(roles), tuple(areas)
        self.check_new_user(user_id, full_name=full_name, roles=roles, areas=areas)
        check_password_policy(user_id, password)
        user = _validated(
            {
                "id": user_id,
                "full_name": full_name,
                "roles": roles,
                "areas": areas,
                "password_hash": self._hasher.hash(password),
                "created_at": self._clock(),
            }
        )
        with self._locked():
            users = self._read_users()
            _absent(users, user.id)
            users[user.id] = user
            self._write_users(users)
        return user

    def check_new_user(
        self, user_id: str, *, full_name: str, roles: Iterable[Role], areas: Iterable[str]
    ) -> None:
        """Raise UserError, naming what is wrong, if such a user cannot be added."""
        _validated(
            {
                "id": user_id,
                "full_name": full_name,
                "roles": tuple(roles),
                "areas": tuple(areas),
                "password_hash": "-",
                "created_at": self._clock(),
            }
        )
        _absent(self._read_users(), user_id)

    def set_password(self, user_id: str, password: str) -> User:
        """Replace a user's password (policy checked) and clear their failed logins."""
        check_password_policy(user_id, password)
        new_hash = self._hasher.hash(password)
        with self._locked():
            users = self._read_users()
            user = _existing(users, user_id).model_copy(update={"password_hash": new_hash})
            users[user_id] = user
            self._write_users(users)
            self._forget_failures(user_id)
        return user

    def disable(self, user_id: str) -> User:
        """Refuse every future login of this user (kept for the audit trail, never deleted)."""
        return self._set_disabled(user_id, True)

    def enable(self, user_id: str) -> User:
        """Allow a disabled user to log in again."""
        return self._set_disabled(user_id, False)

    def unlock(self, user_id: str) -> LoginState | None:
        """Clear a user's failed logins and lockout; returns the state that was cleared."""
        with self._locked():
            _existing(self._read_users(), user_id)
            return self._forget_failures(user_id)

    # -- login ---------------------------------------------------------------------------

    def authenticate(self, user_id: str, password: str) -> User:
        """The user if the password is right and they may log in; AuthenticationError if not."""
        key = user_id.strip().lower()
        if not _USER_ID.fullmatch(key):
            self._verify(self._dummy(), password)  # same work as for a real user
            raise self._refused()
        with self._locked():
            now = self._clock()
            logins = self._read_logins()
            state = logins.get(key)
            if state is not None and state.locked_until is not None and state.locked(now):
                raise self._locked_out(key, state.locked_until)
            user = self._read_users().get(key)
            matches = self._verify(user.password_hash if user else self._dummy(), password)
            if user is None or user.disabled or not matches:
                logins[key] = self._failed(state, now)
                self._write_logins(logins, now)
                locked_until = logins[key].locked_until
                raise self._locked_out(key, locked_until) if locked_until else self._refused()
            if state is not None:
                del logins[key]
                self._write_logins(logins, now)
            if self._hasher.check_needs_rehash(user.password_hash):
                user = user.model_copy(update={"password_hash": self._hasher.hash(password)})
                self._write_users({**self._read_users(), key: user})
            return user

    # -- internals -----------------------------------------------------------------------

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        """A hash no password matches, made with this hasher, to spend time on unknown ids."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        return self._dummy_hash

    def _failed(self, state: LoginState | None, now: datetime) -> LoginState:
        """The state after one more failed login at `now`."""
        if state is None or not self._current(state, now) or state.locked_until is not None:
            state = LoginState(failures=0, first_failure_at=now)
        failures = state.failures + 1
        locked = now + self._lockout.duration if failures >= self._lockout.max_failures else None
        return LoginState(
            failures=failures, first_failure_at=state.first_failure_at, locked_until=locked
        )

    def _current(self, state: LoginState, now: datetime) -> bool:
        """Whether a state still matters: locked, or its failures are within the window."""
        return state.locked(now) or (
            state.locked_until is None and now - state.first_failure_at <= self._lockout.window
        )

    def _refused(self) -> AuthenticationError:
        policy = self._lockout
        return AuthenticationError(
            "login refused: the user id or password is wrong, or the account is disabled."
            f" Check both and try again; after {policy.max_failures} failed attempts in a row"
            f" logins for the id are locked for {_minutes(policy.duration)}"
        )

    def _locked_out(self, user_id: str, until: datetime) -> AuthenticationError:
        return AuthenticationError(
            f"login refused: too many failed attempts for {user_id!r}; logins for it are locked"
            f" until {until:%Y-%m-%d %H:%M} UTC. Wait, or ask an admin to run"
            f" `factory-agents users unlock {user_id}`"
        )

    def _set_disabled(self, user_id: str, disabled: bool) -> User:
        with self._locked():
            users = self._read_users()
            user = _existing(users, user_id).model_copy(update={"disabled": disabled})
            users[user_id] = user
            self._write_users(users)
        return user

    def _forget_failures(self, user_id: str) -> LoginState | None:
        """Drop a user id's failed logins (the lock must be held); the state if it mattered."""
        now = self._clock()
        logins = self._read_logins()
        cleared = logins.pop(user_id, None)
        if cleared is None:
            return None
        self._write_logins(logins, now)
        return cleared if self._current(cleared, now) else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock shared by every process using these files."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read_users(self) -> dict[str, User]:
        raw = _read_private_json(self.path, "users file")
        if raw is None:
            return {}
        try:
            document = _UsersDocument.model_validate(raw)
        except ValidationError as err:
            raise ConfigurationError(
                f"users file {self.path} is not valid ({_problems(err)}); restore it from a"
                " backup, or fix the named entries"
            ) from err
        return {u.id: u for u in document.users}

    def _write_users(self, users: dict[str, User]) -> None:
        document = _UsersDocument(users=sorted(users.values(), key=lambda u: u.id))
        _write_private_json(self.path, document.model_dump(mode="json"))

    def _read_logins(self) -> dict[str, LoginState]:
        raw = _read_private_json(self.logins_path, "login state file")
        if raw is None:
            return {}
        try:
            return dict(_LoginsDocument.model_validate(raw).logins)
        except ValidationError as err:
            raise ConfigurationError(
                f"login state file {self.logins_path} is not valid ({_problems(err)}); delete"
                " it to clear every failed-login count and lockout"
            ) from err

    def _write_logins(self, logins: dict[str, LoginState], now: datetime) -> None:
        """Write the login states that still matter (older ones are dropped)."""
        kept = {k: v for k, v in sorted(logins.items()) if self._current(v, now)}
        _write_private_json(self.logins_path, _LoginsDocument(logins=kept).model_dump(mode="json"))


def _existing(users: dict[str, User], user_id: str) -> User:
    """The user with this id; UserError naming the command that lists them otherwise."""
    user = users.get(user_id)
    if user is None:
        raise UserError(f"no user {user_id!r}; `factory-agents users list` shows every user")
    return user


def _absent(users: dict[str, User], user_id: str) -> None:
    """UserError if a user with this id exists already."""
    if user_id in users:
        raise UserError(
            f"user {user_id!r} exists already; `factory-agents users passwd {user_id}` sets a"
            " new password"
        )


def _validated(fields: dict[str, Any]) -> User:
    """The user built from fields; UserError naming each field that is wrong otherwise."""
    try:
        return User.model_validate(fields)
    except ValidationError as err:
        raise UserError(f"cannot add this user: {_problems(err)}") from err


def _problems(err: ValidationError) -> str:
    """A validation error as one line: `field: what is wrong; ...`."""
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"])
        message = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g} min"


def _read_private_json(path: Path, what: str) -> Any:
    """The parsed JSON of a file only its owner may read; None if it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if stat.S_IMODE(mode) & 0o077:
            raise ConfigurationError(
                f"{what} {path} may be read or changed by other users (mode"
                f" {stat.S_IMODE(mode):o}); run `chmod 600 {path}` and check who changed it"
            )
        data = f.read()
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigurationError(
            f"{what} {path} is not JSON ({err}); restore it from a backup"
        ) from err


def _write_private_json(path: Path, data: Any) -> None:
    """Replace a file atomically with JSON, readable by its owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
