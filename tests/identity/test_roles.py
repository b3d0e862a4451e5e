"""Roles and their permissions; area scopes as ISA-95 paths and what covers what."""

from __future__ import annotations

import pytest

from factory_agents.errors import ConfigurationError
from factory_agents.identity import (
    PERMISSIONS,
    Permission,
    Role,
    covers,
    deciding_role,
    may,
    parse_area,
    permissions,
    roles_with,
)


def test_only_engineers_decide_proposals() -> None:
    assert roles_with(Permission.DECIDE_PROPOSALS) == (Role.ENGINEER,)
    assert may(Role.ENGINEER, Permission.DECIDE_PROPOSALS)
    for role in (Role.MANAGER, Role.INTEGRATOR, Role.ADMIN):
        assert not may(role, Permission.DECIDE_PROPOSALS), role


def test_admins_manage_users_and_nobody_else_does() -> None:
    assert roles_with(Permission.MANAGE_USERS) == (Role.ADMIN,)


def test_managers_configure_agents_and_resume_but_do_not_decide() -> None:
    assert may(Role.MANAGER, Permission.CONFIGURE_AGENTS)
    assert may(Role.MANAGER, Permission.RESUME)
    assert not may(Role.ENGINEER, Permission.CONFIGURE_AGENTS)
    assert not may(Role.INTEGRATOR, Permission.CONFIGURE_AGENTS)


def test_everyone_may_stop_all_and_view_the_audit_but_not_everyone_may_resume() -> None:
    for role in Role:
        assert may(role, Permission.STOP_ALL), role
        assert may(role, Permission.VIEW_AUDIT), role
    assert set(roles_with(Permission.RESUME)) == {Role.ENGINEER, Role.MANAGER}


def test_every_role_has_an_entry_in_the_table() -> None:
    assert set(PERMISSIONS) == set(Role)


def test_permissions_of_several_roles_add_up() -> None:
    held = permissions([Role.ENGINEER, Role.ADMIN])
    assert Permission.DECIDE_PROPOSALS in held
    assert Permission.MANAGE_USERS in held
    assert Permission.CONFIGURE_AGENTS not in held
    assert may([Role.INTEGRATOR, Role.ENGINEER], Permission.DECIDE_PROPOSALS)
    assert permissions([]) == frozenset()


def test_deciding_role_is_the_first_role_that_may_decide() -> None:
    assert deciding_role([Role.ADMIN, Role.ENGINEER]) == Role.ENGINEER
    assert deciding_role([Role.MANAGER, Role.INTEGRATOR, Role.ADMIN]) is None


@pytest.mark.parametrize(
    ("user_areas", "proposal_area", "expected"),
    [
        (["*"], "site1/line1", True),
        (["site1"], "site1/line1", True),
        (["site1"], "site1", True),
        (["site1/line1"], "site1/line1", True),
        (["site1/line1"], "site1/line1/filler", True),
        (["site1/line1"], "site1/line2", False),
        (["site1/line1"], "site1", False),  # a line's engineer does not cover the whole site
        (["site1"], "site10/line1", False),  # segments, not string prefixes
        (["site1/line1"], "site1/line10", False),
        (["site2", "site1/line2"], "site1/line2", True),
        (["site2", "site1/line2"], "site1/line1", False),
        (["Site1"], "site1/line1", False),  # names are exact
        ([], "site1/line1", False),
    ],
)
def test_covers(user_areas: list[str], proposal_area: str, expected: bool) -> None:
    assert covers(user_areas, proposal_area) is expected


def test_parse_area_splits_segments_and_star_means_everything() -> None:
    assert parse_area("site1/line 1") == ("site1", "line 1")
    assert parse_area("*") == ()


@pytest.mark.parametrize(
    "bad", ["", "/", "site1/", "/line1", "site1//line1", "site1/*", "si*te", " site1", "site1 "]
)
def test_malformed_areas_are_refused_with_an_example(bad: str) -> None:
    with pytest.raises(ValueError, match=r"ISA-95 path.*'site1/line1'"):
        parse_area(bad)


def test_covers_refuses_a_malformed_area_or_a_proposal_in_every_area() -> None:
    with pytest.raises(ConfigurationError, match="ISA-95 path"):
        covers(["site1"], "site1//line1")
    with pytest.raises(ConfigurationError, match="ISA-95 path"):
        covers(["site1/"], "site1/line1")
    with pytest.raises(ConfigurationError, match="one area"):
        covers(["*"], "*")
