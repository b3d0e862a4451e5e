"""Which pages a session may open: chosen per session from the signed-in user's roles.

Pages a role may not see are never given to st.navigation for that session, so Streamlit
cannot run them for it, whatever URL is asked for (it serves the default page instead).

| page      | who                                   | what they may do there                     |
|-----------|---------------------------------------|--------------------------------------------|
| Savings   | every role                            | read, export CSV                           |
| Plant     | every role                            | read                                       |
| Approvals | roles that decide (engineer)          | approve or reject, signed with a password  |
| Agents    | every role                            | read; enable, disable, autonomy: manager   |
| Audit     | roles that view the audit (all today) | search, verify the chain                   |
| Copilot   | every role                            | ask read-only questions                    |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dashboards.session import BoardUser
from factory_agents.identity import Permission


@dataclass(frozen=True)
class BoardPage:
    """One page of the board: title, URL path, icon, what shows it, who may open it."""

    title: str
    url_path: str
    icon: str
    show: Callable[[], None]
    permission: Permission | None = None


def _savings() -> None:
    from dashboards.savings_page import show_savings_page

    show_savings_page()


def _plant() -> None:
    from dashboards.plant_page import show_plant_page

    show_plant_page()


def _approvals() -> None:
    from dashboards.approvals_page import show_approvals_page

    show_approvals_page()


def _agents() -> None:
    from dashboards.agents_page import show_agents_page

    show_agents_page()


def _audit() -> None:
    from dashboards.audit_page import show_audit_page

    show_audit_page()


def _copilot() -> None:
    from dashboards.copilot_page import show_copilot_page

    show_copilot_page()


def _login() -> None:
    from dashboards.login_page import show_login_page

    show_login_page()


PAGES = (
    BoardPage("Savings", "savings", ":material/savings:", _savings),
    BoardPage("Plant", "plant", ":material/factory:", _plant),
    BoardPage(
        "Approvals", "approvals", ":material/approval:", _approvals, Permission.DECIDE_PROPOSALS
    ),
    BoardPage("Agents", "agents", ":material/smart_toy:", _agents),
    BoardPage("Audit", "audit", ":material/policy:", _audit, Permission.VIEW_AUDIT),
    BoardPage("Copilot", "copilot", ":material/forum:", _copilot),
)
"""Every page of a signed-in board, in menu order; the first is served at the root URL."""
LOGIN = BoardPage("Log in", "login", ":material/login:", _login)
"""The only page of a session nobody is signed in to."""


def pages_for(user: BoardUser | None) -> list[BoardPage]:
    """The pages this session may open: the login page alone until someone signs in."""
    if user is None:
        return [LOGIN]
    return [page for page in PAGES if page.permission is None or user.may(page.permission)]
