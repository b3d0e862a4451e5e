"""Who may open which page: login, pages chosen per session from roles, the idle lock,
sign-out, lockout after failed logins, and the optional identity provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.proto.TextInput_pb2 import TextInput as TextInputProto
from streamlit.testing.v1 import AppTest

from dashboards import agent_controls, oidc
from dashboards.navigation import PAGES, pages_for
from dashboards.session import (
    ACTIVITY_KEY,
    LOCKED_NOTICE,
    LOGIN_PASSWORD_KEY,
    LOGIN_USER_KEY,
    SIGNED_OUT_NOTICE,
    USER_KEY,
    BoardUser,
)
from factory_agents.identity import Role
from factory_agents.ledger import Ledger
from tests.identity.helpers import FakeClock

from .board import (
    TIMEOUT,
    board_user,
    checked,
    open_board,
    request_page,
    served_pages,
    titles,
)
from .conftest import APP, PASSWORD

EVERYONE = ["Savings", "Plant", "Agents", "Audit", "Copilot"]


def log_in(app: AppTest, user_id: str, password: str) -> AppTest:
    """Type a user id and password into the login form and press Log in."""
    app.text_input(key=LOGIN_USER_KEY).input(user_id)
    app.text_input(key=LOGIN_PASSWORD_KEY).input(password)
    app.button(key="login_submit").click()
    return checked(app.run())


def test_nobody_signed_in_gets_the_login_page_only(seeded_url: str) -> None:
    app = open_board(as_user=None)

    assert served_pages(app) == ["Log in"]
    assert titles(app) == ["Log in to factory-agents"]
    assert not app.metric and not app.dataframe, "nothing from the ledger is shown"


@pytest.mark.parametrize("page", ["approvals", "savings", "audit", "agents"])
def test_asking_for_a_page_by_url_without_login_serves_the_login_page(
    seeded_url: str, page: str
) -> None:
    app = open_board(as_user=None, page=page)

    assert titles(app) == ["Log in to factory-agents"]
    assert not app.metric and not app.dataframe


def test_logging_in_opens_the_savings_page_with_the_role_s_pages(seeded_url: str) -> None:
    app = log_in(open_board(as_user=None), "ada", PASSWORD)

    assert titles(app) == ["Savings"]
    assert served_pages(app) == ["Savings", "Plant", "Approvals", "Agents", "Audit", "Copilot"]
    user = app.session_state[USER_KEY]
    assert (user.id, user.roles, user.method) == ("ada", (Role.ENGINEER,), "password")
    assert app.session_state[LOGIN_PASSWORD_KEY] == "", "the password is not kept"


def test_a_wrong_password_is_refused_and_keeps_the_login_page(seeded_url: str) -> None:
    app = log_in(open_board(as_user=None), "ada", "not the password")

    assert titles(app) == ["Log in to factory-agents"]
    (error,) = app.error
    assert "login refused" in error.value
    assert USER_KEY not in app.session_state


def test_five_failed_logins_lock_the_id_even_with_the_right_password(seeded_url: str) -> None:
    app = open_board(as_user=None)
    for _ in range(5):
        log_in(app, "grace", "guessing wrong again")

    log_in(app, "grace", PASSWORD)

    (error,) = app.error
    assert "too many failed attempts for 'grace'" in error.value
    assert "factory-agents users unlock grace" in error.value
    assert served_pages(app) == ["Log in"]
    other = log_in(open_board(as_user=None), "ada", PASSWORD)
    assert titles(other) == ["Savings"], "only the attacked id is locked"


def test_a_manager_never_gets_the_approvals_page(seeded_url: str) -> None:
    app = open_board("mona", page="approvals")

    assert served_pages(app) == EVERYONE
    assert titles(app) == ["Savings"], "/approvals is not served to a manager"
    assert not [b for b in app.button if b.key and b.key.startswith(("approve-", "reject-"))]


@pytest.mark.parametrize("user_id", ["mona", "ian"])
def test_roles_that_do_not_decide_get_every_other_page(seeded_url: str, user_id: str) -> None:
    assert served_pages(open_board(user_id)) == EVERYONE


def test_an_engineer_gets_the_approvals_page_with_decision_buttons(seeded_url: str) -> None:
    app = open_board("ada", page="approvals")

    assert titles(app) == ["Approvals"]
    assert app.button(key="approve-p-big").label == "Approve"
    assert app.text_input(key="decision_user").value == "ada"
    assert app.text_input(key="decision_user").disabled, "one signs as the signed-in user"


def test_the_page_list_follows_permissions() -> None:
    def user(role: Role) -> BoardUser:
        return BoardUser("u", "U", (role,), ("site1",))

    assert [p.title for p in pages_for(None)] == ["Log in"]
    assert [p.title for p in pages_for(user(Role.ENGINEER))] == [p.title for p in PAGES]
    for role in (Role.MANAGER, Role.INTEGRATOR, Role.ADMIN):
        assert "Approvals" not in [p.title for p in pages_for(user(role))]


def test_an_engineer_sees_no_agent_switches_and_the_server_refuses_them(seeded_url: str) -> None:
    app = open_board("ada", page="agents")

    assert titles(app) == ["Agents"]
    assert not [b for b in app.button if b.key and b.key.startswith(("enable-", "disable-"))]
    feedback = agent_controls.set_enabled(
        seeded_url, board_user("ada"), "spc_drift", False, password=PASSWORD, reason="try"
    )
    assert not feedback.succeeded and "may not disable spc_drift" in feedback.message
    with Ledger.open(seeded_url) as ledger:
        assert ledger.agent_enabled("spc_drift")


def test_the_session_locks_after_15_minutes_without_interaction(
    seeded_url: str, clock: FakeClock
) -> None:
    app = open_board("ada")
    clock.advance(timedelta(minutes=14))
    checked(app.run())
    assert titles(app) == ["Savings"], "an interaction within 15 minutes keeps it open"
    clock.advance(timedelta(minutes=14))
    checked(app.run())
    assert titles(app) == ["Savings"], "idle time counts from the last interaction"

    clock.advance(timedelta(minutes=15, seconds=1))
    checked(app.run())

    assert titles(app) == ["Log in to factory-agents"]
    assert served_pages(app) == ["Log in"]
    assert [info.value for info in app.info] == [LOCKED_NOTICE]
    assert USER_KEY not in app.session_state and ACTIVITY_KEY not in app.session_state
    assert not app.metric


def test_a_locked_session_keeps_nothing_from_before(seeded_url: str, clock: FakeClock) -> None:
    app = open_board("ada", page="approvals")
    app.text_input(key="decision_password").input(PASSWORD)
    app.text_input(key="reason-p-big").input("overfill")
    clock.advance(timedelta(minutes=16))

    checked(app.run())

    assert "decision_password" not in app.session_state
    assert "reason-p-big" not in app.session_state
    assert titles(app) == ["Log in to factory-agents"]


def test_signing_out_returns_to_the_login_page(seeded_url: str) -> None:
    app = open_board("mona")

    app.button(key="sign_out").click()
    checked(app.run())

    assert served_pages(app) == ["Log in"]
    assert [info.value for info in app.info] == [SIGNED_OUT_NOTICE]
    assert USER_KEY not in app.session_state


def test_without_an_identity_provider_only_the_password_login_is_offered(
    seeded_url: str,
) -> None:
    app = open_board(as_user=None)

    assert [button.key for button in app.button] == ["login_submit"]
    assert app.text_input(key=LOGIN_PASSWORD_KEY).proto.type == TextInputProto.PASSWORD


OIDC_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not-a-real-secret",
        "client_id": "factory-agents",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    },
    "board": {"oidc_user_claim": "preferred_username"},
}


def oidc_board(claims: dict[str, object]) -> AppTest:
    """The board with an identity provider configured, as a browser with these claims sees it."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.secrets = OIDC_SECRETS
    app.user = claims
    return checked(app.run())


def test_a_configured_identity_provider_is_offered_next_to_the_password(
    seeded_url: str,
) -> None:
    app = oidc_board({"is_logged_in": False})

    keys = [button.key for button in app.button]
    assert "login_submit" in keys
    if oidc.authlib_missing():  # st.login needs it: the page says what to install
        assert "oidc_login" not in keys
        assert any("pip install 'streamlit[auth]'" in w.value for w in app.warning)
    else:
        assert "oidc_login" in keys


def test_an_identity_provider_login_maps_to_the_users_file_and_its_roles(
    seeded_url: str,
) -> None:
    app = oidc_board({"is_logged_in": True, "preferred_username": "mona", "email": "m@x.example"})

    assert served_pages(app) == EVERYONE, "roles come from the users file: a manager"
    user = app.session_state[USER_KEY]
    assert (user.id, user.method) == ("mona", "oidc")


def test_an_identity_provider_login_of_an_unknown_user_is_refused(seeded_url: str) -> None:
    app = oidc_board({"is_logged_in": True, "preferred_username": "mallory"})

    assert served_pages(app) == ["Log in"]
    (error,) = app.error
    assert "'mallory' signed in with the identity provider, but is not a user" in error.value


def test_a_page_asked_for_by_url_is_served_once_permitted(seeded_url: str) -> None:
    app = open_board("ada")
    request_page(app, "audit")

    checked(app.run())

    assert titles(app) == ["Audit"]
