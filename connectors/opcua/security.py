"""OPC UA security: which policies are allowed, certificates, the trust folder, clear refusals.

Allowed: Basic256Sha256 and Aes256_Sha256_RsaPss, in mode SignAndEncrypt (or Sign). Refused:
the deprecated SHA-1 policies Basic128Rsa15 and Basic256, and mode None unless explicitly
allowed (`allow_none=True`), which is meant for the local simulator only.

Example (what an integrator configures for a plant server)::

    security = OpcUaSecurity(
        policy="Basic256Sha256",
        certificate=Path("pki/own/client.der"),
        private_key=Path("pki/own/client.pem"),
        trust_folder=Path("pki/trusted"),
        user="factory-agents",
        password="...",
    )
    async with OpcUaConnector("opc.tcp://plc1:4840/", security=security) as plant:
        ...
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.crypto import security_policies
from asyncua.ua.status_codes import StatusCodes
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, model_validator

from factory_agents.errors import ConfigurationError, ConnectorError

logger = logging.getLogger(__name__)

PolicyName = Literal["None", "Basic256Sha256", "Aes256_Sha256_RsaPss"]
ModeName = Literal["None", "Sign", "SignAndEncrypt"]
Identity = Literal["anonymous", "username", "certificate"]

POLICY_URI_PREFIX = "http://opcfoundation.org/UA/SecurityPolicy#"
ALLOWED_POLICIES: tuple[PolicyName, ...] = ("Basic256Sha256", "Aes256_Sha256_RsaPss")
DEPRECATED_POLICIES = frozenset({"Basic128Rsa15", "Basic256"})
_POLICY_CLASSES: dict[str, type[security_policies.SecurityPolicy]] = {
    "None": security_policies.SecurityPolicyNone,
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
_MODES: dict[str, ua.MessageSecurityMode] = {
    "None": ua.MessageSecurityMode.None_,
    "Sign": ua.MessageSecurityMode.Sign,
    "SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt,
}
_CERTIFICATE_SUFFIXES = frozenset({".der", ".pem", ".crt", ".cer"})
_ENV_PREFIX = "FACTORY_OPCUA_"
_ENV_FIELDS = (
    "policy",
    "mode",
    "certificate",
    "private_key",
    "private_key_password",
    "trust_folder",
    "user",
    "password",
    "user_certificate",
    "user_private_key",
    "allow_none",
)


def canonical_policy(name: str) -> str:
    """The policy's name as OPC UA spells it (from a name, alias or URI), deprecated refused."""
    short = name.strip().removeprefix(POLICY_URI_PREFIX)
    squashed = short.replace("_", "").lower()
    for known in (*_POLICY_CLASSES, *DEPRECATED_POLICIES):
        if known.replace("_", "").lower() == squashed:
            short = known
            break
    if short in DEPRECATED_POLICIES:
        raise ValueError(
            f"security policy {short} is deprecated by OPC UA (SHA-1, weak keys) and refused; use"
            " Basic256Sha256 or Aes256_Sha256_RsaPss"
        )
    if squashed == "aes128sha256rsaoaep":
        raise ValueError(
            "security policy Aes128_Sha256_RsaOaep is not enabled in factory-agents; use"
            " Basic256Sha256 or Aes256_Sha256_RsaPss"
        )
    if short not in _POLICY_CLASSES:
        raise ValueError(
            f"unknown security policy {name!r}; use Basic256Sha256 or Aes256_Sha256_RsaPss"
            " (or None, explicitly allowed, for the local simulator)"
        )
    return short


class OpcUaSecurity(BaseModel):
    """How the connector secures its OPC UA link: policy, mode, certificates, trust, identity.

    Each field is meant to be a FACTORY_OPCUA_<FIELD> setting (see `from_environment`).
    """

    model_config = ConfigDict(frozen=True)

    policy: PolicyName = "Basic256Sha256"
    mode: ModeName = "SignAndEncrypt"
    certificate: Path | None = None
    private_key: Path | None = None
    private_key_password: SecretStr | None = None
    trust_folder: Path | None = None
    user: str | None = None
    password: SecretStr | None = None
    user_certificate: Path | None = None
    user_private_key: Path | None = None
    allow_none: bool = False

    @model_validator(mode="before")
    @classmethod
    def _canonical_names(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        values = dict(data)
        if isinstance(values.get("policy"), str):
            values["policy"] = canonical_policy(values["policy"])
        if isinstance(values.get("mode"), str):
            mode = values["mode"].strip()
            values["mode"] = {m.lower(): m for m in _MODES}.get(mode.lower(), mode)
        if values.get("policy") == "None" and "mode" not in values:
            values["mode"] = "None"
        if values.get("mode") == "None" and "policy" not in values:
            values["policy"] = "None"
        return values

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaSecurity:
        if (self.policy == "None") != (self.mode == "None"):
            raise ValueError(
                f"policy {self.policy} with mode {self.mode} is not a valid pair; use policy None"
                " with mode None, or Basic256Sha256 / Aes256_Sha256_RsaPss with SignAndEncrypt"
            )
        if self.policy == "None" and not self.allow_none:
            raise ValueError(
                "security mode None is refused: it sends values and passwords in clear and lets"
                " any client in. Allow it explicitly (allow_none=True, FACTORY_OPCUA_ALLOW_NONE"
                " =true or --allow-none) only for a local test server such as the simulator"
            )
        if self.policy != "None":
            missing = [
                name
                for name in ("certificate", "private_key", "trust_folder")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(
                    f"security policy {self.policy} needs {', '.join(missing)}: the client"
                    " certificate and key (`factory-agents opcua certs create` makes them) and a"
                    " trust folder holding the server's certificate"
                )
        if self.password is not None and self.user is None:
            raise ValueError("a password was given without a user name; give both or neither")
        if self.user is not None and self.password is None:
            raise ValueError(f"user {self.user!r} has no password; give the password too")
        if (self.user_certificate is None) != (self.user_private_key is None):
            raise ValueError("an X509 identity needs both user_certificate and user_private_key")
        if self.user is not None and self.user_certificate is not None:
            raise ValueError("choose one identity: a user name and password, or a user certificate")
        return self

    @property
    def identity(self) -> Identity:
        """Who the session logs in as: anonymous, a user name, or a user certificate."""
        if self.user_certificate is not None:
            return "certificate"
        if self.user is not None:
            return "username"
        return "anonymous"

    @property
    def message_mode(self) -> ua.MessageSecurityMode:
        """The mode as asyncua's enum."""
        return _MODES[self.mode]

    @property
    def policy_class(self) -> type[security_policies.SecurityPolicy]:
        """The asyncua class implementing the policy."""
        return _POLICY_CLASSES[self.policy]

    @property
    def policy_uri(self) -> str:
        """The policy's URI, as servers list it in their endpoints."""
        return POLICY_URI_PREFIX + self.policy

    def describe(self) -> str:
        """E.g. 'Basic256Sha256/SignAndEncrypt as user operator'."""
        who = {"anonymous": "anonymously", "username": f"as user {self.user}"}.get(
            self.identity, f"with user certificate {self.user_certificate}"
        )
        return f"{self.policy}/{self.mode} {who}"

    @classmethod
    def local_simulator(cls) -> OpcUaSecurity:
        """No security, explicitly allowed: only for the local, unsecured plant simulator."""
        return cls(policy="None", mode="None", allow_none=True)

    @classmethod
    def build(cls, **fields: object) -> OpcUaSecurity:
        """Validate `fields` into an OpcUaSecurity, or raise ConfigurationError saying why."""
        try:
            return cls.model_validate(fields)
        except ValidationError as err:
            reasons = "; ".join(_reason(error) for error in err.errors())
            raise ConfigurationError(f"OPC UA security settings are not usable: {reasons}") from err

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> OpcUaSecurity:
        """The security that FACTORY_OPCUA_* variables describe; none set: the local simulator."""
        fields: dict[str, object] = {}
        for name in _ENV_FIELDS:
            raw = env.get(f"{_ENV_PREFIX}{name.upper()}")
            if raw is not None and raw != "":
                fields[name] = raw
        if not fields:
            return cls.local_simulator()
        return cls.build(**fields)


LOCAL_SIMULATOR = OpcUaSecurity.local_simulator()
"""No security, explicitly allowed: the setting for the local, unsecured plant simulator."""


def _reason(error: Mapping[str, object]) -> str:
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    location = error.get("loc")
    if isinstance(location, tuple) and location:
        return f"{'.'.join(str(part) for part in location)}: {message}"
    return message


def load_certificate(path: Path, what: str) -> x509.Certificate:
    """A PEM or DER certificate file, or ConfigurationError naming `what` it was meant to be."""
    try:
        content = path.read_bytes()
    except OSError as err:
        raise ConfigurationError(
            f"cannot read the {what} {path}: {err.strerror or err}. Check the path"
            " (`factory-agents opcua certs create` writes a client certificate)"
        ) from err
    try:
        if content.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(content)
        return x509.load_der_x509_certificate(content)
    except ValueError as err:
        raise ConfigurationError(
            f"the {what} {path} is not an X.509 certificate in PEM or DER format"
        ) from err


def load_private_key(path: Path, password: SecretStr | None, what: str) -> PrivateKeyTypes:
    """A PEM or DER private key file, decrypted with `password` if it is encrypted."""
    try:
        content = path.read_bytes()
    except OSError as err:
        raise ConfigurationError(
            f"cannot read the {what} {path}: {err.strerror or err}. Check the path"
        ) from err
    secret = password.get_secret_value().encode() if password is not None else None
    try:
        if content.lstrip().startswith(b"-----BEGIN"):
            return serialization.load_pem_private_key(content, secret)
        return serialization.load_der_private_key(content, secret)
    except (ValueError, TypeError) as err:
        raise ConfigurationError(
            f"the {what} {path} cannot be loaded ({err}); is it a private key, and is its"
            " password (FACTORY_OPCUA_PRIVATE_KEY_PASSWORD) right?"
        ) from err


def thumbprint(certificate: x509.Certificate) -> str:
    """The SHA-1 thumbprint OPC UA tools show, as upper-case hex."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()


def describe(certificate: x509.Certificate) -> str:
    """Subject and thumbprint, to recognise a certificate in a message."""
    return f"'{certificate.subject.rfc4514_string()}' (SHA-1 thumbprint {thumbprint(certificate)})"


def application_uri_of(certificate: x509.Certificate) -> str | None:
    """The application URI in the certificate's subjectAltName, if it has one."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = names.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def validity_problem(certificate: x509.Certificate, now: datetime | None = None) -> str | None:
    """Why the certificate is not valid at `now` (expired, not yet valid), or None."""
    moment = now or datetime.now(UTC)
    if certificate.not_valid_after_utc < moment:
        return f"expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if certificate.not_valid_before_utc > moment:
        return f"is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    return None


def application_uri_required(certificate: x509.Certificate, path: Path) -> str:
    """The own certificate's application URI; ConfigurationError when it has none."""
    uri = application_uri_of(certificate)
    if uri is None:
        raise ConfigurationError(
            f"the client certificate {path} has no application URI in its subjectAltName;"
            " OPC UA servers refuse such certificates. Create one with"
            " `factory-agents opcua certs create`"
        )
    return uri


def check_key_matches(
    certificate: x509.Certificate, key: PrivateKeyTypes, path: Path
) -> rsa.RSAPrivateKey:
    """The key, refused unless it is the RSA key that belongs to the certificate."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(
            f"the private key {path} is not an RSA key; OPC UA's RSA policies need one"
        )
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():  # type: ignore[union-attr]
        raise ConfigurationError(
            f"the private key {path} does not belong to the certificate {describe(certificate)};"
            " give the key created together with that certificate"
        )
    return key


@dataclass(frozen=True)
class KeyPair:
    """A certificate valid now and the private key created with it."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def certificate_der(self) -> bytes:
        """The certificate as DER, as asyncua takes it."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_der(self) -> bytes:
        """The private key as unencrypted PKCS#8 DER, as asyncua takes it."""
        return self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def load_key_pair(
    certificate: Path, key: Path, *, whose: str, renew: str, password: SecretStr | None = None
) -> KeyPair:
    """`whose` certificate and key (client, user, simulator); ConfigurationError if either cannot
    be read, the certificate is not valid now (the message ends with `renew`), or they differ."""
    loaded = load_certificate(certificate, f"{whose} certificate")
    problem = validity_problem(loaded)
    if problem is not None:
        raise ConfigurationError(f"the {whose} certificate {certificate} {problem}; {renew}")
    private = load_private_key(key, password, f"{whose} private key")
    return KeyPair(loaded, check_key_matches(loaded, private, key))


class TrustFolder:
    """Certificates trusted as peers: self-signed ones themselves, or the CAs that issued them."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise ConfigurationError(
                f"the trust folder {folder} does not exist; create it and copy the peer's"
                " certificate (.der or .pem) into it"
            )
        self.folder = folder
        self.certificates: list[x509.Certificate] = []
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in _CERTIFICATE_SUFFIXES and path.is_file():
                self.certificates.append(load_certificate(path, "trusted certificate"))

    def is_trusted(self, certificate: x509.Certificate) -> bool:
        """True if the certificate is in the folder or was signed by a CA certificate there."""
        for trusted in self.certificates:
            if trusted == certificate:
                return True
            issued = trusted.subject == certificate.issuer and _is_ca(trusted)
            if issued and _signed_by(certificate, trusted):
                return True
        return False


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    public_key = issuer.public_key()
    algorithm = certificate.signature_hash_algorithm
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm is not None:
            public_key.verify(
                certificate.signature,
                certificate.tbs_certificate_bytes,
                padding.PKCS1v15(),
                algorithm,
            )
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm is not None:
            public_key.verify(
                certificate.signature, certificate.tbs_certificate_bytes, ec.ECDSA(algorithm)
            )
        else:
            return False
    except InvalidSignature:
        return False
    return True


class PeerCertificateCheck:
    """An asyncua certificate validator: peer certificate in date and in the trust folder.

    asyncua only passes a status code on, so the reason for the last refusal is kept in
    `refusal` for the error message.
    """

    def __init__(self, trust: TrustFolder, *, peer: Literal["server", "client"]) -> None:
        self.trust = trust
        self.peer = peer
        self.refusal: str | None = None

    async def __call__(
        self, certificate: x509.Certificate, description: ua.ApplicationDescription
    ) -> None:
        """Raise ServiceError with an OPC UA status if the peer's certificate is not acceptable."""
        problem = validity_problem(certificate)
        if problem is not None:
            self._refuse(
                StatusCodes.BadCertificateTimeInvalid,
                f"the {self.peer}'s certificate {describe(certificate)} {problem}",
            )
        if not self.trust.is_trusted(certificate):
            self._refuse(
                StatusCodes.BadCertificateUntrusted,
                f"the {self.peer}'s certificate {describe(certificate)} is not in the trust folder"
                f" {self.trust.folder}; if it is the right {self.peer}, copy its certificate"
                " there",
            )
        uri = application_uri_of(certificate)
        if description.ApplicationUri and uri != description.ApplicationUri:
            message = (
                f"the {self.peer}'s certificate names application {uri!r} but the {self.peer}"
                f" says it is {description.ApplicationUri!r}"
            )
            if self.peer == "client":
                self._refuse(StatusCodes.BadCertificateUriInvalid, message)
            logger.warning("%s; accepted because the certificate itself is trusted", message)
        self.refusal = None

    def _refuse(self, status: int, reason: str) -> None:
        self.refusal = reason
        logger.warning("refused a %s certificate: %s", self.peer, reason)
        raise ServiceError(status)


def endpoint_summary(endpoints: Sequence[ua.EndpointDescription]) -> str:
    """What a server offers, e.g. 'None/None, Basic256Sha256/SignAndEncrypt'."""
    offered = []
    for endpoint in endpoints:
        policy = (endpoint.SecurityPolicyUri or "").removeprefix(POLICY_URI_PREFIX)
        mode = endpoint.SecurityMode.name.rstrip("_")
        offered.append(f"{policy}/{mode}")
    return ", ".join(dict.fromkeys(offered)) or "no endpoints"


_TOKEN_TYPES: dict[Identity, ua.UserTokenType] = {
    "anonymous": ua.UserTokenType.Anonymous,
    "username": ua.UserTokenType.UserName,
    "certificate": ua.UserTokenType.Certificate,
}


def choose_endpoint(
    endpoints: Sequence[ua.EndpointDescription], security: OpcUaSecurity, url: str
) -> ua.EndpointDescription:
    """The server's endpoint matching the policy, mode and identity, or a ConnectorError."""
    wanted = [
        endpoint
        for endpoint in endpoints
        if endpoint.SecurityPolicyUri == security.policy_uri
        and endpoint.SecurityMode == security.message_mode
    ]
    if not wanted:
        advice = (
            "; it has no security at all: enable Basic256Sha256 or Aes256_Sha256_RsaPss with"
            " SignAndEncrypt on the server. Only for a local test server, allow None"
            " explicitly (allow_none / --allow-none)"
            if all(e.SecurityMode == ua.MessageSecurityMode.None_ for e in endpoints)
            else "; choose one of these (--policy / --mode, FACTORY_OPCUA_POLICY / _MODE)"
        )
        raise ConnectorError(
            f"{url} offers no {security.policy}/{security.mode} endpoint, only"
            f" {endpoint_summary(endpoints)}{advice}"
        )
    token_type = _TOKEN_TYPES[security.identity]
    for endpoint in wanted:
        if any(token.TokenType == token_type for token in endpoint.UserIdentityTokens or []):
            return endpoint
    accepted = sorted(
        {token.TokenType.name for e in wanted for token in e.UserIdentityTokens or []}
    )
    raise ConnectorError(
        f"{url} does not accept {security.identity} logins on its {security.policy}/"
        f"{security.mode} endpoint; it accepts {', '.join(accepted) or 'none'}. Configure one of"
        " those (--user for UserName, --user-cert and --user-key for Certificate)"
    )


def sends_password_in_clear(endpoint: ua.EndpointDescription) -> bool:
    """True if a UserName token on this endpoint would carry the password unencrypted."""
    if endpoint.SecurityMode == ua.MessageSecurityMode.SignAndEncrypt:
        return False
    for token in endpoint.UserIdentityTokens or []:
        if token.TokenType == ua.UserTokenType.UserName:
            uri = token.SecurityPolicyUri or endpoint.SecurityPolicyUri
            return uri in ("", None, security_policies.SecurityPolicyNone.URI)
    return False


_STATUS_HINTS = {
    "BadCertificateUntrusted": "the server does not trust our client certificate: have its"
    " administrator add {certificate} to the server's trusted certificates",
    "BadSecurityChecksFailed": "the server refused our certificate or signature: have it"
    " trust {certificate}, and check that the certificate was made for this client",
    "BadCertificateTimeInvalid": "the server says a certificate is out of its validity period:"
    " check the client certificate's dates and the clocks of both machines",
    "BadCertificateUriInvalid": "the server says the application URI in our certificate does"
    " not match; create the certificate with the client's application URI",
    "BadCertificateUseNotAllowed": "the server refuses our certificate's key usage; create it"
    " with `factory-agents opcua certs create`",
    "BadCertificateRevoked": "the server has revoked our client certificate; create a new one",
    "BadUserAccessDenied": "the server refused the login: check the user name and password"
    " (or user certificate) and that this user may connect",
    "BadIdentityTokenInvalid": "the server could not use our login: check the user name and"
    " password (or user certificate)",
    "BadIdentityTokenRejected": "the server does not accept this kind of login on this endpoint;"
    " use another identity (anonymous, --user, or a user certificate)",
    "BadSecurityPolicyRejected": "the server rejects the security policy; choose one it offers",
    "BadSecurityModeRejected": "the server rejects the security mode; choose one it offers",
}


def refusal_hint(status_name: str, certificate: Path | None) -> str | None:
    """What to do about a security-related refusal from a server, or None if not one."""
    hint = _STATUS_HINTS.get(status_name)
    if hint is None:
        return None
    return hint.format(certificate=certificate or "the client certificate")
