"""Signed decisions: claims authenticated with HMAC-SHA256 under a key the worker also holds.

The CLI or board authenticates the user (password, lockout), builds the claims with
`claims_for`, and sends `sign(claims, key)`. The workflow's Update validator calls
`verify(decision, key, now=workflow.now())`: pure computation, no I/O and no clock, so it
is safe inside the Temporal sandbox. Only `load_signing_key` touches the disk; the worker
calls `install_worker_key` once at start so validators reach the key through `worker_key()`
(the key must never travel in workflow inputs: those are stored in Temporal's history).

The key is 32 random bytes kept as hex in FACTORY_HOME/signing.key (mode 0600). Whoever can
read it can sign for anyone: it must be readable by the platform's account only.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from factory_agents.errors import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ProposalError,
)
from factory_agents.identity.roles import (
    Permission,
    Role,
    check_area,
    deciding_role,
    may,
    roles_with,
)

if TYPE_CHECKING:
    from factory_agents.identity.users import User

KEY_FILE = "signing.key"
KEY_BYTES = 32
MAX_AGE = timedelta(minutes=10)
MAX_SKEW = timedelta(seconds=30)
_HEX64 = r"^[0-9a-f]{64}$"
_DOMAIN = b"factory-agents signed decision v1\n"

Meaning = Literal["approve", "reject"]


REASON_MAX_CHARS = 2000
"""A decision's reason is a sentence or a paragraph; a report belongs in the CMMS, linked."""


class DecisionClaims(BaseModel):
    """What a user signs: who, as which role, with which areas, decides what, why, and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    proposal_id: str = Field(min_length=1)
    meaning: Meaning
    reason: str = Field(max_length=REASON_MAX_CHARS)
    user_id: str = Field(min_length=1)
    full_name: str = Field(min_length=1)
    role: Role
    areas: tuple[str, ...] = Field(min_length=1)
    proposal_hash: str = Field(pattern=_HEX64, description="SHA-256 of the proposal as shown")
    signed_at: AwareDatetime

    @field_validator("reason")
    @classmethod
    def _has_reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a decision needs a reason; say why")
        return value

    @field_validator("areas")
    @classmethod
    def _valid_areas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_area(a) for a in value)

    @field_validator("signed_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class SignedDecision(DecisionClaims):
    """Decision claims with the id of the key that signed them and their HMAC-SHA256 (hex)."""

    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(pattern=_HEX64)

    def claims(self) -> DecisionClaims:
        """The claims alone, as they were signed."""
        return DecisionClaims.model_validate(self.model_dump(include=_claim_fields()))


_worker_key: bytes | None = None


def install_worker_key(key: bytes) -> None:
    """Hold the signing key in this worker process, for Update validators to `worker_key()`."""
    global _worker_key
    _check_key(key)
    _worker_key = key


def worker_key() -> bytes:
    """The key installed in this worker process; ConfigurationError if none was installed."""
    if _worker_key is None:
        raise ConfigurationError(
            "no signing key is installed in this worker; call install_worker_key(load_signing_key"
            "(home, create=True)) before starting it, and import factory_agents.identity in"
            " workflows with workflow.unsafe.imports_passed_through() so they see it"
        )
    return _worker_key


def key_id(key: bytes) -> str:
    """A short public fingerprint of a signing key (it reveals nothing about the key)."""
    return hashlib.sha256(b"factory-agents key id\n" + key).hexdigest()[:16]


def sign(claims: DecisionClaims, key: bytes) -> SignedDecision:
    """The claims signed with HMAC-SHA256 under the key (canonical JSON, domain-separated)."""
    _check_key(key)
    kid = key_id(key)
    signature = hmac.new(key, _message(claims, kid), hashlib.sha256).hexdigest()
    return SignedDecision.model_validate(
        {**claims.model_dump(include=_claim_fields()), "key_id": kid, "signature": signature}
    )


def verify(
    decision: SignedDecision,
    key: bytes,
    *,
    now: datetime,
    max_age: timedelta = MAX_AGE,
    max_skew: timedelta = MAX_SKEW,
) -> DecisionClaims:
    """The claims if signature and key match and it is fresh at `now`; else AuthenticationError."""
    # Pure (no I/O, no clock): usable in a Temporal Update validator with now=workflow.now().
    _check_key(key)
    if now.tzinfo is None or now.utcoffset() is None:
        raise AuthenticationError(
            "cannot check a signature's age against a naive time; pass an aware UTC `now`"
        )
    mine = key_id(key)
    if not hmac.compare_digest(decision.key_id.encode(), mine.encode()):
        raise AuthenticationError(
            f"the decision was signed with key {decision.key_id}, but this worker holds key"
            f" {mine}; give the board, the CLI and every worker the same signing.key. Nothing"
            " was done"
        )
    expected = hmac.new(key, _message(decision, mine), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(decision.signature.encode(), expected.encode()):
        raise AuthenticationError(
            "the decision's signature does not match its content: it was changed after"
            " signing. Nothing was done; decide again"
        )
    claims = decision.claims()
    age = now - claims.signed_at
    if age > max_age:
        raise AuthenticationError(
            f"the decision was signed at {claims.signed_at:%H:%M:%S} UTC, more than"
            f" {max_age.total_seconds() / 60:g} min ago; nothing was done. Decide again"
            " (you will be asked for your password)"
        )
    if -age > max_skew:
        raise AuthenticationError(
            f"the decision is dated {claims.signed_at:%H:%M:%S} UTC, {-age.total_seconds():.0f} s"
            " in the future; the clocks of the signing machine and the worker disagree. Sync"
            " them (NTP) and decide again"
        )
    return claims


def claims_for(
    user: User,
    *,
    proposal_id: str,
    meaning: Meaning,
    reason: str,
    proposal_hash: str,
    signed_at: datetime,
    role: Role | None = None,
) -> DecisionClaims:
    """The claims an authenticated user signs, as their deciding role unless one is given."""
    # AuthorizationError: disabled user, no role that may decide, or a role they do not hold.
    if user.disabled:
        raise AuthorizationError(f"user {user.id!r} is disabled and cannot sign decisions")
    chosen = role if role is not None else deciding_role(user.roles)
    held = ", ".join(user.roles)
    allowed = " or ".join(roles_with(Permission.DECIDE_PROPOSALS))
    if chosen is None:
        raise AuthorizationError(
            f"{user.id} ({held}) holds no role that may decide proposals; only {allowed} may."
            " Ask an engineer of the area"
        )
    if chosen not in user.roles:
        raise AuthorizationError(
            f"{user.id} does not hold the role {chosen} (only {held}); sign as one of those"
        )
    if not may(chosen, Permission.DECIDE_PROPOSALS):
        raise AuthorizationError(
            f"{user.id} may not decide proposals as {chosen}; only {allowed} may."
            " Ask an engineer of the area"
        )
    return DecisionClaims(
        proposal_id=proposal_id,
        meaning=meaning,
        reason=checked_reason(reason),
        user_id=user.id,
        full_name=user.full_name,
        role=chosen,
        areas=user.areas,
        proposal_hash=proposal_hash,
        signed_at=signed_at,
    )


def checked_reason(reason: str) -> str:
    """The reason as given, or ProposalError saying what a decision's reason must be."""
    if not reason.strip():
        raise ProposalError("a decision needs a reason; say why, it is kept with the decision")
    if len(reason) > REASON_MAX_CHARS:
        raise ProposalError(
            f"the reason has {len(reason):,} characters; a decision keeps at most"
            f" {REASON_MAX_CHARS:,}. Shorten it, and point to a longer report instead;"
            " nothing was signed"
        )
    return reason


def load_signing_key(home: Path, *, create: bool = False) -> bytes:
    """The key in home/signing.key, made once if absent and `create`; or ConfigurationError."""
    # Unfit: missing (without create), not 32 bytes of hex, or readable by others.
    path = home / KEY_FILE
    if create and not path.exists():
        _create_key(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise ConfigurationError(
            f"no signing key at {path}; the worker creates it on start (`factory-agents up` or"
            " `factory-agents worker`). On another machine, copy the worker's signing.key there"
            " with mode 600"
        ) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077:
            raise ConfigurationError(
                f"signing key {path} may be read by other users (mode"
                f" {stat.S_IMODE(info.st_mode):o}); whoever reads it can sign decisions for"
                f" anyone. Run `chmod 600 {path}`, and replace the key if it may have leaked"
            )
        text = f.read().decode("ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"signing key {path} is not {KEY_BYTES} bytes written as hex; delete it and start"
            " the worker to create a new one (decisions signed with the old key will be refused)"
        )
    return key


def _create_key(path: Path) -> None:
    """Write a new random key, 0600; if another process was first, keep theirs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: keep theirs
            os.link(tmp, path)  # atomic, and never overwrites
    finally:
        Path(tmp).unlink(missing_ok=True)


def _claim_fields() -> set[str]:
    """The names of the signed claims (a SignedDecision's fields minus key id and signature)."""
    return set(DecisionClaims.model_fields)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ConfigurationError(
            f"a signing key has {KEY_BYTES} bytes, this one {len(key)};"
            " load it with load_signing_key"
        )


def _message(claims: DecisionClaims, kid: str) -> bytes:
    """The bytes the HMAC covers: a domain tag, then the canonical JSON of claims and key id."""
    body = claims.model_dump(mode="json", include=_claim_fields())
    body["key_id"] = kid
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _DOMAIN + text.encode("ascii")
