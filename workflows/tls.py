"""TLS to a Temporal frontend, from the FACTORY_TEMPORAL_TLS_* settings.

Set nothing for a plaintext frontend (the dev server, a cluster on a private network); set
FACTORY_TEMPORAL_TLS_CA to verify the frontend against your own CA; add
FACTORY_TEMPORAL_TLS_CERT and FACTORY_TEMPORAL_TLS_KEY for mutual TLS (the frontend then knows
the worker, board or CLI by its certificate); FACTORY_TEMPORAL_TLS_SERVER_NAME when the name in
the frontend's certificate is not the host in FACTORY_TEMPORAL_ADDRESS.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import TLSConfig

from factory_agents.errors import ConfigurationError
from factory_agents.settings import Settings


def temporal_tls(settings: Settings) -> TLSConfig | None:
    """The TLS configuration the settings ask for, or None for plaintext."""
    cert, key, ca = settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca
    if (cert is None) != (key is None):
        given, missing = ("CERT", "KEY") if key is None else ("KEY", "CERT")
        raise ConfigurationError(
            f"FACTORY_TEMPORAL_TLS_{given} is set but FACTORY_TEMPORAL_TLS_{missing} is not;"
            " mutual TLS needs the client certificate and its private key, set both (or neither)"
        )
    if cert is None and ca is None and settings.temporal_tls_server_name is None:
        return None
    return TLSConfig(
        server_root_ca_cert=_pem(ca, "FACTORY_TEMPORAL_TLS_CA"),
        client_cert=_pem(cert, "FACTORY_TEMPORAL_TLS_CERT"),
        client_private_key=_pem(key, "FACTORY_TEMPORAL_TLS_KEY"),
        domain=settings.temporal_tls_server_name,
    )


def _pem(path: Path | None, variable: str) -> bytes | None:
    """The bytes of a PEM file named by a setting; ConfigurationError saying which and why."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(
            f"{variable} names {path}, which does not exist; mount the file there or correct"
            f" {variable}"
        ) from None
    except OSError as err:
        raise ConfigurationError(
            f"cannot read {path} ({variable}): {err.strerror}; give this account read access"
        ) from err
    if b"-----BEGIN " not in data:
        raise ConfigurationError(
            f"{path} ({variable}) is not PEM (no '-----BEGIN' line); convert it to PEM"
            " (`openssl x509 -inform der` for a certificate, `openssl pkey -inform der` for a key)"
        )
    return data
