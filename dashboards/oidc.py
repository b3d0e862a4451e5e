"""Optional sign-in through an OpenID Connect provider (st.login), configured in secrets.

Streamlit's own `[auth]` section of `.streamlit/secrets.toml` configures the provider
(redirect_uri, cookie_secret, client_id, client_secret, server_metadata_url; or one
`[auth.NAME]` table per provider) and needs the Authlib package. The provider proves who
someone is; the platform's users file still says what they may do: a user signed in through
the provider is the user of the users file whose id is the value of one of their identity
claims, set in a `[board]` section:

```toml
[board]
oidc_user_claim = "preferred_username"   # the claim holding the users-file id (the default)
oidc_provider = "keycloak"               # the [auth.keycloak] table; omit for plain [auth]
```

Without an `[auth]` section only the password login is offered. Signing decisions still asks
for the users-file password every time: a signature is checked against it by the workflows.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboards.session import LOGIN_ERROR_KEY, BoardUser, users_file
from factory_agents.errors import FactoryAgentsError

DEFAULT_CLAIM = "preferred_username"


@dataclass(frozen=True)
class OidcSettings:
    """How the board signs people in through the identity provider."""

    provider: str | None
    user_claim: str


def _secrets() -> Any:
    """The app's secrets, or None when there is no secrets file."""
    return st.secrets if st.secrets.load_if_toml_exists() else None


def oidc_settings() -> OidcSettings | None:
    """The OIDC settings when an [auth] section is configured; None for password-only boards."""
    secrets = _secrets()
    if secrets is None or "auth" not in secrets:
        return None
    board = secrets.get("board", {})
    provider = board.get("oidc_provider")
    return OidcSettings(
        provider=str(provider) if provider else None,
        user_claim=str(board.get("oidc_user_claim", DEFAULT_CLAIM)),
    )


def authlib_missing() -> bool:
    """Whether st.login cannot work here because the Authlib package is not installed."""
    return importlib.util.find_spec("authlib") is None


def identity_provider_user() -> BoardUser | None:
    """The users-file user the identity provider signed in, if any (and if they may log in)."""
    settings = oidc_settings()
    if settings is None or not st.user.is_logged_in:
        return None
    claimed = st.user.get(settings.user_claim)
    if not isinstance(claimed, str) or not claimed.strip():
        st.session_state[LOGIN_ERROR_KEY] = (
            f"The identity provider did not send the claim {settings.user_claim!r}; set"
            " [board] oidc_user_claim in secrets.toml to the claim holding your user id."
        )
        return None
    try:
        user = users_file().get(claimed.strip().lower())
    except FactoryAgentsError as err:
        st.session_state[LOGIN_ERROR_KEY] = str(err)
        return None
    if user is None or user.disabled:
        st.session_state[LOGIN_ERROR_KEY] = (
            f"{claimed!r} signed in with the identity provider, but is not a user of this"
            " platform (or is disabled); an admin adds them with `factory-agents users add`."
        )
        return None
    return BoardUser.of(user, method="oidc")
