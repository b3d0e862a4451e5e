"""How a manager switches an agent on or off and changes its autonomy from the board.

Each change needs the configure_agents permission (checked here, on the server, not only by
hiding the form), the manager's password again (as the CLI asks), and a reason; the ledger
writes it with an audit event naming who and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards import data
from dashboards.session import BoardUser, users_file
from factory_agents.autonomy import AutonomyRules
from factory_agents.errors import FactoryAgentsError
from factory_agents.identity import Permission
from factory_agents.ledger.views import AutonomyLevel


@dataclass(frozen=True)
class Feedback:
    """What the manager is told after a change."""

    succeeded: bool
    message: str


def _checked(user: BoardUser, password: str, reason: str, doing: str) -> Feedback | None:
    """A refusal when the user may not configure agents, or the password or reason is missing."""
    if not user.may(Permission.CONFIGURE_AGENTS):
        return Feedback(False, f"Your role ({user.role_names}) may not {doing}; a manager may.")
    if not reason.strip():
        return Feedback(False, f"Enter a reason to {doing}; it is kept in the audit trail.")
    if not password:
        return Feedback(False, f"Enter your password to {doing}; it confirms it is you.")
    try:
        users_file().authenticate(user.id, password)
    except FactoryAgentsError as err:
        return Feedback(False, str(err))
    return None


def set_enabled(
    url: str, user: BoardUser, agent: str, enabled: bool, *, password: str, reason: str
) -> Feedback:
    """Enable or disable `agent` for `user` (permission, password, reason checked; audited)."""
    doing = f"{'enable' if enabled else 'disable'} {agent}"
    refused = _checked(user, password, reason, doing)
    if refused is not None:
        return refused
    try:
        changed = data.open_ledger(url).set_agent_enabled(
            agent, enabled, actor=user.id, reason=reason.strip()
        )
    except FactoryAgentsError as err:
        return Feedback(False, str(err))
    state = "enabled" if enabled else "disabled"
    if not changed:
        return Feedback(True, f"{agent} was {state} already.")
    follow = "" if enabled else "; its proposals are withheld until a manager enables it"
    return Feedback(True, f"{agent} is {state}{follow}.")


def set_autonomy(
    url: str, user: BoardUser, agent: str, level: AutonomyLevel, *, password: str, reason: str
) -> Feedback:
    """Change `agent`'s autonomy; autonomous only with a track record that earned it."""
    doing = f"change the autonomy of {agent}"
    refused = _checked(user, password, reason, doing)
    if refused is not None:
        return refused
    ledger = data.open_ledger(url)
    try:
        if level == AutonomyLevel.AUTONOMOUS:
            refusal = AutonomyRules().unlock_refusal(ledger.track_record(agent))
            if refusal is not None:
                return Feedback(False, f"{refusal}; it stays {ledger.autonomy(agent)}.")
        changed = ledger.set_autonomy(agent, level, actor=user.id, reason=reason.strip())
    except FactoryAgentsError as err:
        return Feedback(False, str(err))
    return Feedback(True, f"{agent} is {level}{'' if changed else ' already'}.")
