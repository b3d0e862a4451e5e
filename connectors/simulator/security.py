"""The simulator run secured: SignAndEncrypt endpoints, a trust folder, real users.

A secured simulator offers only Basic256Sha256 and/or Aes256_Sha256_RsaPss with
SignAndEncrypt, trusts only the client certificates in its trust folder, and logs in only
known users: user names with argon2-hashed passwords, or user certificates. Anonymous
clients are refused.

Example::

    security = SimulatorSecurity(
        certificate=Path("pki/server.der"),
        private_key=Path("pki/server.pem"),
        trust_folder=Path("pki/trusted-clients"),
        users={"operator": hash_password("s3cret")},
    )
    SimulatorConfig(endpoint="opc.tcp://127.0.0.1:4841/factory-agents/", security=security)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.opcua.security import (
    PeerCertificateCheck,
    PolicyName,
    TrustFolder,
    load_certificate,
    load_key_pair,
)
from factory_agents.errors import ConfigurationError

if TYPE_CHECKING:
    from asyncua.server.internal_server import InternalServer
    from asyncua.server.server import Server

logger = logging.getLogger(__name__)

_HASHER = PasswordHasher()
_SIGN_AND_ENCRYPT: dict[str, ua.SecurityPolicyType] = {
    "Basic256Sha256": ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
    "Aes256_Sha256_RsaPss": ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
}
_CERTIFICATE_SUFFIXES = frozenset({".der", ".pem", ".crt", ".cer"})


def hash_password(password: str) -> str:
    """An argon2id hash of `password`, to put in SimulatorSecurity.users."""
    return _HASHER.hash(password)


class SimulatorSecurity(BaseModel):
    """How a secured simulator runs: policies, its certificate, trusted clients, its users."""

    model_config = ConfigDict(frozen=True)

    policies: tuple[PolicyName, ...] = ("Basic256Sha256", "Aes256_Sha256_RsaPss")
    certificate: Path
    private_key: Path
    trust_folder: Path
    users: dict[str, str] = Field(
        default_factory=dict, description="User name -> argon2 hash (see hash_password)"
    )
    user_certificates: Path | None = Field(
        None, description="Folder of X509 user certificates; the file name (stem) is the user"
    )

    @field_validator("policies")
    @classmethod
    def _secured_policies_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(policy not in _SIGN_AND_ENCRYPT for policy in value):
            raise ValueError(
                f"a secured simulator offers Basic256Sha256 and/or Aes256_Sha256_RsaPss; got"
                f" {list(value)}. Leave security unset for the unsecured local simulator"
            )
        return value

    @model_validator(mode="after")
    def _someone_can_log_in(self) -> SimulatorSecurity:
        if not self.users and self.user_certificates is None:
            raise ValueError(
                "a secured simulator refuses anonymous clients; give it users (name -> hash)"
                " or a folder of user certificates"
            )
        for name, hashed in self.users.items():
            if not hashed.startswith("$argon2"):
                raise ValueError(
                    f"user {name!r}: store an argon2 hash (hash_password), never the password"
                )
        return self


class SimulatorUserManager(UserManager):
    """Logs in known users only: user name and password, or a known user certificate."""

    def __init__(self, users: dict[str, str], certificates: dict[bytes, str]) -> None:
        self._users = dict(users)
        self._certificates = dict(certificates)

    def get_user(
        self,
        iserver: InternalServer,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        """The session's user, or None (the server then answers BadUserAccessDenied)."""
        if username is not None:
            hashed = self._users.get(username)
            if hashed is None or password is None:
                logger.warning("refused login of unknown user %r", username)
                return None
            try:
                _HASHER.verify(hashed, password)
            except (VerificationError, InvalidHashError):
                logger.warning("refused login of user %r: wrong password", username)
                return None
            return User(role=UserRole.User, name=username)
        if isinstance(certificate, bytes) and certificate in self._certificates:
            return User(role=UserRole.User, name=self._certificates[certificate])
        logger.warning("refused an anonymous or unknown-certificate login")
        return None


def _user_certificates(folder: Path | None) -> dict[bytes, str]:
    if folder is None:
        return {}
    if not folder.is_dir():
        raise ConfigurationError(f"the simulator's user certificate folder {folder} does not exist")
    known: dict[bytes, str] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in _CERTIFICATE_SUFFIXES:
            certificate = load_certificate(path, "user certificate")
            known[certificate.public_bytes(serialization.Encoding.DER)] = path.stem
    return known


async def secure_server(server: Server, security: SimulatorSecurity) -> None:
    """Load the certificate and key, offer SignAndEncrypt only, check clients, log users in."""
    own = load_key_pair(
        security.certificate, security.private_key, whose="simulator", renew="create a new one"
    )
    await server.load_certificate(own.certificate_der, format="der")
    await server.load_private_key(own.key_der, format="der")
    server.set_security_policy([_SIGN_AND_ENCRYPT[policy] for policy in security.policies])
    server.set_identity_tokens([ua.UserNameIdentityToken, ua.X509IdentityToken])
    users = SimulatorUserManager(security.users, _user_certificates(security.user_certificates))
    server.iserver.set_user_manager(users)
    check = PeerCertificateCheck(TrustFolder(security.trust_folder), peer="client")
    server.set_certificate_validator(check)
