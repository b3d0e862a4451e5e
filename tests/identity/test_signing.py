"""Signed decisions: the key file, HMAC round trips, tampering, wrong keys, age and skew."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from factory_agents.errors import ConfigurationError
from factory_agents.identity import (
    AuthenticationError,
    AuthorizationError,
    DecisionClaims,
    Role,
    SignedDecision,
    User,
    claims_for,
    install_worker_key,
    key_id,
    load_signing_key,
    sign,
    verify,
    worker_key,
)
from tests.identity.helpers import T0

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
HASH = "ab" * 32


def _claims(**overrides: Any) -> DecisionClaims:
    fields: dict[str, Any] = {
        "proposal_id": "prop-1",
        "meaning": "approve",
        "reason": "fill weight drifting high",
        "user_id": "alice",
        "full_name": "Alice Example",
        "role": Role.ENGINEER,
        "areas": ("site1/line1",),
        "proposal_hash": HASH,
        "signed_at": T0,
        **overrides,
    }
    return DecisionClaims(**fields)


# -- the key file --------------------------------------------------------------------------


def test_the_key_is_created_once_private_and_then_loaded(tmp_path: Path) -> None:
    key = load_signing_key(tmp_path / "home", create=True)
    path = tmp_path / "home" / "signing.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == key.hex()
    assert load_signing_key(tmp_path / "home", create=True) == key  # never replaced
    assert load_signing_key(tmp_path / "home") == key
    assert [p.name for p in path.parent.iterdir()] == ["signing.key"]


def test_two_homes_get_different_random_keys(tmp_path: Path) -> None:
    assert load_signing_key(tmp_path / "a", create=True) != load_signing_key(
        tmp_path / "b", create=True
    )


def test_a_missing_key_says_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"no signing key at .*signing\.key.*worker"):
        load_signing_key(tmp_path)
    assert not (tmp_path / "signing.key").exists()


def test_a_key_others_may_read_is_refused(tmp_path: Path) -> None:
    load_signing_key(tmp_path, create=True)
    (tmp_path / "signing.key").chmod(0o640)
    with pytest.raises(ConfigurationError, match=r"may be read by other users.*chmod 600"):
        load_signing_key(tmp_path)


@pytest.mark.parametrize("content", ["", "zz" * 32, "ab" * 31, "ab" * 33])
def test_a_malformed_key_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "signing.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="not 32 bytes written as hex"):
        load_signing_key(tmp_path)


def test_keys_of_the_wrong_size_are_refused_when_signing() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        sign(_claims(), b"short")


def test_a_worker_holds_its_key_for_validators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("factory_agents.identity.signing._worker_key", None)
    with pytest.raises(ConfigurationError, match=r"no signing key is installed.*passed_through"):
        worker_key()
    with pytest.raises(ConfigurationError, match="32 bytes"):
        install_worker_key(b"too short")
    install_worker_key(KEY)
    assert worker_key() == KEY


# -- sign and verify -----------------------------------------------------------------------


def test_round_trip_returns_the_claims() -> None:
    decision = sign(_claims(), KEY)
    assert decision.key_id == key_id(KEY)
    assert len(decision.signature) == 64
    assert verify(decision, KEY, now=T0 + timedelta(minutes=1)) == _claims()


def test_signing_is_deterministic_and_depends_on_the_key() -> None:
    assert sign(_claims(), KEY).signature == sign(_claims(), KEY).signature
    assert sign(_claims(), KEY).signature != sign(_claims(), OTHER_KEY).signature


def test_a_decision_survives_json_and_temporals_data_converter() -> None:
    decision = sign(_claims(signed_at=T0 + timedelta(microseconds=123)), KEY)
    from_json = SignedDecision.model_validate_json(decision.model_dump_json())
    converter = pydantic_data_converter.payload_converter
    payloads = converter.to_payloads([decision])
    (from_temporal,) = converter.from_payloads(payloads, [SignedDecision])
    for received in (from_json, from_temporal):
        assert isinstance(received, SignedDecision)
        assert verify(received, KEY, now=T0).signed_at == decision.signed_at


def test_signed_at_in_another_zone_is_kept_in_utc_and_still_verifies() -> None:
    cet = timezone(timedelta(hours=1))
    decision = sign(_claims(signed_at=T0.astimezone(cet)), KEY)
    assert decision.signed_at.utcoffset() == timedelta(0)
    assert verify(decision, KEY, now=T0).signed_at == T0


TAMPERED: dict[str, Any] = {
    "proposal_id": "prop-2",
    "meaning": "reject",
    "reason": "fill weight drifting high.",
    "user_id": "bob",
    "full_name": "Alice Exampel",
    "role": Role.ADMIN,
    "areas": ("*",),
    "proposal_hash": "cd" * 32,
    "signed_at": T0 + timedelta(seconds=1),
}


def test_every_claim_is_covered_by_the_test() -> None:
    assert set(TAMPERED) == set(DecisionClaims.model_fields)


@pytest.mark.parametrize(("field", "value"), TAMPERED.items(), ids=list(TAMPERED))
def test_changing_any_claim_breaks_the_signature(field: str, value: Any) -> None:
    decision = sign(_claims(), KEY)
    tampered = decision.model_copy(update={field: value})
    with pytest.raises(AuthenticationError, match="changed after signing"):
        verify(tampered, KEY, now=T0)
    # the same change arriving as JSON (re-validated) is caught too
    revalidated = SignedDecision.model_validate_json(tampered.model_dump_json())
    with pytest.raises(AuthenticationError, match="changed after signing"):
        verify(revalidated, KEY, now=T0)


def test_a_changed_signature_is_refused() -> None:
    decision = sign(_claims(), KEY)
    flipped = ("0" if decision.signature[0] != "0" else "1") + decision.signature[1:]
    with pytest.raises(AuthenticationError, match="changed after signing"):
        verify(decision.model_copy(update={"signature": flipped}), KEY, now=T0)


def test_a_decision_signed_with_another_key_names_both_keys() -> None:
    decision = sign(_claims(), OTHER_KEY)
    with pytest.raises(AuthenticationError) as caught:
        verify(decision, KEY, now=T0)
    assert key_id(OTHER_KEY) in str(caught.value)
    assert key_id(KEY) in str(caught.value)
    assert "same signing.key" in str(caught.value)


def test_a_forged_key_id_does_not_help() -> None:
    forged = sign(_claims(), OTHER_KEY).model_copy(update={"key_id": key_id(KEY)})
    with pytest.raises(AuthenticationError, match="changed after signing"):
        verify(forged, KEY, now=T0)


def test_a_signature_is_valid_for_ten_minutes() -> None:
    decision = sign(_claims(), KEY)
    assert verify(decision, KEY, now=T0 + timedelta(minutes=10)) == _claims()
    with pytest.raises(AuthenticationError, match=r"more than 10 min ago.*Decide again"):
        verify(decision, KEY, now=T0 + timedelta(minutes=10, seconds=1))


def test_the_maximum_age_is_configurable() -> None:
    decision = sign(_claims(), KEY)
    with pytest.raises(AuthenticationError, match="more than 1 min ago"):
        verify(decision, KEY, now=T0 + timedelta(seconds=61), max_age=timedelta(minutes=1))


def test_a_signature_from_the_future_is_refused_beyond_the_skew() -> None:
    decision = sign(_claims(), KEY)
    assert verify(decision, KEY, now=T0 - timedelta(seconds=30)) == _claims()
    with pytest.raises(AuthenticationError, match=r"31 s in the future.*NTP"):
        verify(decision, KEY, now=T0 - timedelta(seconds=31))


def test_a_naive_now_fails_closed() -> None:
    decision = sign(_claims(), KEY)
    with pytest.raises(AuthenticationError, match="naive"):
        verify(decision, KEY, now=datetime(2025, 3, 4, 8, 0))


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"reason": "  "}, "needs a reason"),
        ({"proposal_hash": "AB" * 32}, "pattern"),
        ({"signed_at": datetime(2025, 3, 4)}, "timezone"),
        ({"areas": ("site1//line1",)}, "ISA-95 path"),
        ({"meaning": "maybe"}, "approve"),
    ],
)
def test_malformed_claims_are_refused(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        _claims(**overrides)


def test_unknown_fields_are_refused_rather_than_silently_unsigned() -> None:
    data = sign(_claims(), KEY).model_dump(mode="json")
    data["approved_amount"] = "1000000"
    with pytest.raises(ValueError, match="approved_amount"):
        SignedDecision.model_validate(data)


# -- claims for an authenticated user ------------------------------------------------------


def _user(**overrides: Any) -> User:
    fields: dict[str, Any] = {
        "id": "alice",
        "full_name": "Alice Example",
        "roles": (Role.ADMIN, Role.ENGINEER),
        "areas": ("site1/line1", "site2"),
        "password_hash": "$argon2id$unused",
        "created_at": T0,
        **overrides,
    }
    return User(**fields)


def test_claims_for_a_user_carry_their_name_areas_and_deciding_role() -> None:
    now = datetime.now(UTC)
    claims = claims_for(
        _user(),
        proposal_id="prop-1",
        meaning="reject",
        reason="not now",
        proposal_hash=HASH,
        signed_at=now,
    )
    assert (claims.user_id, claims.full_name, claims.role) == ("alice", "Alice Example", "engineer")
    assert claims.areas == ("site1/line1", "site2")
    assert claims.signed_at == now


@pytest.mark.parametrize(
    ("user", "role", "problem"),
    [
        (_user(roles=(Role.MANAGER,)), None, "holds no role that may decide.*only engineer"),
        (_user(roles=(Role.ENGINEER,)), Role.ADMIN, "does not hold the role admin"),
        (_user(roles=(Role.ADMIN,)), Role.ADMIN, "may not decide proposals as admin"),
        (_user(disabled=True), None, "disabled"),
    ],
)
def test_claims_for_refuses_users_who_may_not_decide(
    user: User, role: Role | None, problem: str
) -> None:
    with pytest.raises(AuthorizationError, match=problem):
        claims_for(
            user,
            proposal_id="prop-1",
            meaning="approve",
            reason="ok",
            proposal_hash=HASH,
            signed_at=T0,
            role=role,
        )
