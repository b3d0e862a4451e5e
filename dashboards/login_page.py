"""Login page: user id and password from the platform's users file (with its lockout), or the
identity provider when one is configured."""

from __future__ import annotations

import streamlit as st

from dashboards import oidc, session

ABOUT = (
    "Sign in with your platform user id and password (the ones you sign decisions with). "
    "After five failed attempts in 15 minutes the id is locked for 15 minutes, here and in "
    "the command line. An idle session locks after 15 minutes."
)
NO_USERS = (
    "This platform has no users yet. Add one with `factory-agents users add ID --full-name NAME"
    " --role engineer --area site1` (`factory-agents up` creates the engineer `engineer` on a"
    " fresh home and leaves its password in first-login.txt)."
)


def show_identity_provider(settings: oidc.OidcSettings) -> None:
    """A button that signs in through the configured identity provider."""
    if oidc.authlib_missing():
        st.warning(
            "An identity provider is configured in secrets.toml, but the Authlib package is"
            " missing: `pip install 'streamlit[auth]'`. Use your password meanwhile."
        )
        return
    if st.button("Log in with your company account", key="oidc_login", type="primary"):
        if settings.provider:
            st.login(settings.provider)
        else:
            st.login()


def show_password_form() -> None:
    """User id and password fields with a Log in button."""
    with st.form("login", border=True):
        st.text_input("User id", key=session.LOGIN_USER_KEY, autocomplete="username")
        st.text_input(
            "Password", type="password", key=session.LOGIN_PASSWORD_KEY, autocomplete="off"
        )
        st.form_submit_button(
            "Log in", key="login_submit", type="primary", on_click=session.sign_in
        )


def show_login_page() -> None:
    """The login page: why you are here, the identity provider if any, the password form."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        show_login()


def show_login() -> None:
    """The login page's content."""
    st.title("Log in to factory-agents")
    st.caption(ABOUT)
    notice = st.session_state.get(session.NOTICE_KEY)
    if notice:
        st.info(notice)
    error = st.session_state.get(session.LOGIN_ERROR_KEY)
    if error:
        st.error(error)
    settings = oidc.oidc_settings()
    if settings is not None:
        show_identity_provider(settings)
        st.caption("Or use your platform password:")
    show_password_form()
    try:
        empty = not session.users_file().list_users()
    except Exception:  # a broken users file is reported by the login attempt itself
        empty = False
    if empty:
        st.warning(NO_USERS)
