"""Roles, what each may do, and area scopes (ISA-95 paths such as "site1/line1").

Who may do what (`PERMISSIONS`; enforced on the server side, not only hidden in the UI):

| permission        | engineer | manager | integrator | admin |
|-------------------|:--------:|:-------:|:----------:|:-----:|
| decide_proposals  |    ✓     |         |            |       |
| configure_agents  |          |    ✓    |            |       |
| stop_all          |    ✓     |    ✓    |     ✓      |   ✓   |
| resume            |    ✓     |    ✓    |            |       |
| manage_users      |          |         |            |   ✓   |
| view_audit        |    ✓     |    ✓    |     ✓      |   ✓   |

- decide_proposals: approve or reject a proposal in one's areas. Engineers only: whoever
  administers accounts could otherwise create a second "engineer" and approve twice, so
  admins do not decide (separation of duties, as GMP data-integrity guidance asks). A
  person who is both gets both roles and signs as engineer.
- configure_agents: enable or disable an agent, change its autonomy level. Letting an
  agent act with less oversight is a risk the line's manager accepts, not its author.
- stop_all: stop every agent at once. The safe direction, like an emergency stop: anyone.
- resume: restart agents after a stop; people answerable for the plant (engineer, manager).
- manage_users: add, disable, unlock users and reset passwords.
- view_audit: read and verify the audit trail; everyone, for transparency.

Areas: a user's areas are ISA-95 paths ("site1" covers all of site1, "site1/line1" only that
line) or "*" for every area; a proposal belongs to one path (its site/line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from factory_agents.errors import ConfigurationError


class Role(StrEnum):
    """What a user is in the plant: it decides what they may do."""

    ENGINEER = "engineer"
    MANAGER = "manager"
    INTEGRATOR = "integrator"
    ADMIN = "admin"


class Permission(StrEnum):
    """Something a role may or may not do (see the module's table)."""

    DECIDE_PROPOSALS = "decide_proposals"
    CONFIGURE_AGENTS = "configure_agents"
    STOP_ALL = "stop_all"
    RESUME = "resume"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ENGINEER: frozenset(
        {
            Permission.DECIDE_PROPOSALS,
            Permission.STOP_ALL,
            Permission.RESUME,
            Permission.VIEW_AUDIT,
        }
    ),
    Role.MANAGER: frozenset(
        {
            Permission.CONFIGURE_AGENTS,
            Permission.STOP_ALL,
            Permission.RESUME,
            Permission.VIEW_AUDIT,
        }
    ),
    Role.INTEGRATOR: frozenset({Permission.STOP_ALL, Permission.VIEW_AUDIT}),
    Role.ADMIN: frozenset({Permission.MANAGE_USERS, Permission.STOP_ALL, Permission.VIEW_AUDIT}),
}
ALL_AREAS = "*"
_SEGMENT = re.compile(r"[^/*\s](?:[^/*]*[^/*\s])?")


def permissions(roles: Iterable[Role]) -> frozenset[Permission]:
    """Everything a user holding these roles may do."""
    return frozenset[Permission]().union(*(PERMISSIONS[Role(r)] for r in roles))


def may(roles: Role | Iterable[Role], permission: Permission) -> bool:
    """Whether a user holding these roles (or this one role) has the permission."""
    held = (roles,) if isinstance(roles, Role) else tuple(roles)
    return permission in permissions(held)


def roles_with(permission: Permission) -> tuple[Role, ...]:
    """The roles that carry a permission, in the enum's order."""
    return tuple(role for role in Role if permission in PERMISSIONS[role])


def deciding_role(roles: Iterable[Role]) -> Role | None:
    """The first of a user's roles that may decide proposals (the role they sign as), or None."""
    return next((Role(r) for r in roles if may(Role(r), Permission.DECIDE_PROPOSALS)), None)


def parse_area(path: str) -> tuple[str, ...]:
    """Segments of an area path ("site1/line1" → ("site1", "line1"), "*" → ()); or ValueError."""
    if path == ALL_AREAS:
        return ()
    segments = tuple(path.split("/"))
    if not path or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise ValueError(
            f"area {path!r} is not an ISA-95 path; write names separated by '/', like"
            " 'site1' or 'site1/line1' (no empty parts, no '*' inside, no spaces at the"
            " ends), or '*' for every area"
        )
    return segments


def check_area(path: str) -> str:
    """The path itself if it is a valid area (ValueError otherwise); for validators."""
    parse_area(path)
    return path


def covers(user_areas: Iterable[str], proposal_area: str) -> bool:
    """Whether a user's areas include the proposal's area or contain it ("*" covers all)."""
    # A malformed area, or "*" as the proposal's area, is a ConfigurationError.
    try:
        target = parse_area(proposal_area)
        scopes = [parse_area(a) for a in user_areas]
    except ValueError as err:
        raise ConfigurationError(str(err)) from err
    if not target:
        raise ConfigurationError(
            "a proposal belongs to one area (its site/line), not '*'; give its ISA-95 path"
        )
    return any(target[: len(scope)] == scope for scope in scopes)
