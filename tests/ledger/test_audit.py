"""The audit trail: one linear hash chain that verifies, and that shows every tampered row."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NoReturn

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from factory_agents.agent import Proposal
from factory_agents.errors import LedgerError
from factory_agents.ledger import Ledger, writes
from factory_agents.ledger.audit import GENESIS_HASH, append_event, event_hash, verify_chain
from factory_agents.ledger.models import AuditEvent, ProposalRow, SavingRow
from factory_agents.ledger.session import write_bind
from tests.tamper import drop_guard, without_guard

MakeProposal = Callable[..., Proposal]
T0 = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


def _runs(ledger: Ledger, count: int, prefix: str = "run") -> None:
    for i in range(count):
        ledger.record_run(
            run_id=f"{prefix}-{i}",
            agent="spc_drift",
            started_at=T0,
            finished_at=T0 + timedelta(seconds=1),
            status="ok",
            findings=i,
            proposals=0,
            skipped={},
        )


def _sql(ledger: Ledger, statement: str, **params: Any) -> None:
    without_guard(ledger.engine, statement, **params)


def _hash_of(ledger: Ledger, seq: int) -> str:
    with Session(ledger.engine) as session:
        event = session.get(AuditEvent, seq)
        assert event is not None
        return event.hash


def test_a_clean_chain_verifies(ledger: Ledger) -> None:
    assert ledger.audit_report().model_dump() == {
        "ok": True,
        "events": 0,
        "problems": [],
        "head_hash": GENESIS_HASH,
    }
    _runs(ledger, 4)
    report = ledger.audit_report()
    assert (report.ok, report.events, report.problems) == (True, 4, [])
    assert report.head_hash == _hash_of(ledger, 4)
    entries = ledger.audit_events()
    assert [e.seq for e in entries] == [4, 3, 2, 1]
    with Session(ledger.engine) as session:
        first = session.get(AuditEvent, 1)
        assert first is not None and first.prev_hash == GENESIS_HASH


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 2",
    ],
)
def test_the_database_refuses_to_change_or_delete_events(ledger: Ledger, statement: str) -> None:
    _runs(ledger, 3)
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as conn:
        conn.execute(text(statement))
    assert verify_chain_ok(ledger, events=3)


def verify_chain_ok(ledger: Ledger, *, events: int) -> bool:
    """The chain verifies and holds `events` events."""
    report = ledger.audit_report()
    return report.ok and report.events == events


def test_an_edited_row_is_named(ledger: Ledger) -> None:
    _runs(ledger, 4)
    _sql(ledger, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    report = ledger.audit_report()
    assert not report.ok
    assert report.problems == [
        "seq 2: hash mismatch; the event (run.recorded on run-1) was edited after it was written"
    ]


def test_an_edit_that_rehashes_its_row_breaks_the_next_link(ledger: Ledger) -> None:
    _runs(ledger, 3)
    drop_guard(ledger.engine)
    with Session(ledger.engine) as session, session.begin():
        event = session.get(AuditEvent, 2)
        assert event is not None
        event.details = {"findings": 99}
        event.hash = event_hash(
            event.prev_hash,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            details=event.details,
        )
    problems = ledger.audit_report().problems
    assert len(problems) == 1 and problems[0].startswith("seq 3: prev_hash does not match")


def test_a_deleted_row_shows_as_a_gap_and_a_broken_link(ledger: Ledger) -> None:
    _runs(ledger, 4)
    _sql(ledger, "DELETE FROM audit_events WHERE seq = 2")
    report = ledger.audit_report()
    assert (report.ok, report.events) == (False, 3)
    assert report.problems[0] == "seq 3: expected seq 2; events 2..2 were deleted"
    assert report.problems[1].startswith("seq 3: prev_hash does not match")


def test_an_inserted_row_breaks_the_links(ledger: Ledger) -> None:
    _runs(ledger, 3)
    # make room at seq 3, then forge a self-consistent row there
    _sql(ledger, "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3")
    _sql(ledger, "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000")
    prev = "e" * 64
    forged: dict[str, Any] = {
        "actor": "mallory",
        "action": "run.recorded",
        "subject": "run-x",
        "details": {},
    }
    forged_hash = event_hash(prev, at=T0, **forged)
    with Session(ledger.engine) as session, session.begin():
        session.add(AuditEvent(seq=3, at=T0, prev_hash=prev, hash=forged_hash, **forged))
    problems = ledger.audit_report().problems
    assert [p.split(":")[0] for p in problems] == ["seq 3", "seq 4"]
    assert all("prev_hash does not match" in p for p in problems)


def test_the_chain_cannot_fork(ledger: Ledger) -> None:
    _runs(ledger, 2)
    with Session(ledger.engine) as session, pytest.raises(IntegrityError):
        session.add(
            AuditEvent(
                seq=3,
                at=T0,
                actor="x",
                action="fork",
                subject="s",
                details={},
                prev_hash=_hash_of(ledger, 1),  # seq 2 already follows seq 1
                hash="a" * 64,
            )
        )
        session.commit()


def test_concurrent_writers_keep_one_linear_chain(ledger: Ledger) -> None:
    threads, each = 6, 8
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(_runs, ledger, each, f"t{t}") for t in range(threads)]:
            future.result()
    report = ledger.audit_report()
    assert (report.ok, report.events, report.problems) == (True, threads * each, [])
    with Session(ledger.engine) as session:
        seqs = session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, threads * each + 1))


def test_details_are_stored_as_canonical_json(ledger: Ledger) -> None:
    with Session(write_bind(ledger.engine)) as session, session.begin():
        details = {"amount": Decimal("12.50"), "at": T0, "nested": {"b": [1, 2.5], "a": None}}
        event = append_event(session, actor="a", action="x", subject="s", details=details, at=T0)
        stored = event.details
    assert stored == {
        "amount": "12.50",
        "at": "2025-03-04T08:00:00+00:00",
        "nested": {"a": None, "b": [1, 2.5]},
    }
    with Session(ledger.engine) as session:
        assert verify_chain(session).ok


@pytest.mark.parametrize(
    ("details", "at", "says"),
    [
        ({"x": float("nan")}, T0, "cannot be stored as JSON"),
        ({"x": object()}, T0, "cannot be stored as JSON"),
        ({}, datetime(2025, 1, 1), "is naive"),
    ],
)
def test_bad_audit_input_is_refused(
    ledger: Ledger, details: dict[str, Any], at: datetime, says: str
) -> None:
    with Session(ledger.engine) as session, pytest.raises(LedgerError, match=says):
        append_event(session, actor="a", action="x", subject="s", details=details, at=at)


def test_a_failed_audit_write_writes_nothing(
    ledger: Ledger, make_proposal: MakeProposal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> NoReturn:
        raise LedgerError("audit trail refused the event")

    monkeypatch.setattr(writes, "append_event", refuse)
    with pytest.raises(LedgerError, match="audit trail refused"):
        ledger.record_proposal(make_proposal(), run_id=None, expires_at=T0 + timedelta(hours=1))
    with Session(ledger.engine) as session:
        assert session.scalars(select(ProposalRow)).all() == []
        assert session.scalars(select(SavingRow)).all() == []
        assert session.scalars(select(AuditEvent)).all() == []


def test_writes_retry_a_lost_race_and_then_give_up(ledger: Ledger) -> None:
    attempts: list[int] = []

    def collide_once(session: Session) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise IntegrityError("INSERT", {}, Exception("duplicate prev_hash"))
        return "done"

    assert ledger._write("test a race", collide_once) == "done"
    assert len(attempts) == 2

    def always_collide(session: Session) -> NoReturn:
        raise IntegrityError("INSERT", {}, Exception("duplicate prev_hash"))

    with pytest.raises(
        LedgerError, match=r"could not test a race after 5 tries.*nothing was written"
    ):
        ledger._write("test a race", always_collide)
