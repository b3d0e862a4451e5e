"""At most one open proposal per subject, even when two workers record on it at the same instant:
the check and the insert share one transaction, queued behind the ledger's other writers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from factory_agents.errors import SubjectOpen
from factory_agents.ledger import Ledger
from tests.factories import build_proposal

NODE = "ns=2;s=Line1/Filler/FillSetpoint"


def test_a_second_open_proposal_on_a_subject_is_refused_and_leaves_no_trace(
    ledger_url: str,
) -> None:
    now = datetime.now(UTC)
    expires = now + timedelta(hours=1)
    with Ledger.open(ledger_url) as ledger:
        assert ledger.record_proposal(
            build_proposal("p-first", node_id=NODE, created_at=now),
            run_id=None, expires_at=expires, exclusive_subject=True,
        )  # fmt: skip
        events = len(ledger.audit_events())
        with pytest.raises(SubjectOpen, match=f"p-first is still open on {NODE}") as refused:
            ledger.record_proposal(
                build_proposal("p-second", node_id=NODE, created_at=now),
                run_id=None, expires_at=expires, exclusive_subject=True,
            )  # fmt: skip
        assert refused.value.open_id == "p-first"
        assert ledger.get_proposal("p-second") is None
        assert len(ledger.audit_events()) == events

        ledger.set_status("p-first", "rejected", actor="bob", detail="not now")
        assert ledger.record_proposal(
            build_proposal("p-third", node_id=NODE, created_at=now),
            run_id=None, expires_at=expires, exclusive_subject=True,
        ), "a closed proposal frees its subject"  # fmt: skip


def test_two_writers_recording_on_one_subject_at_once_record_one_proposal(
    ledger_url: str,
) -> None:
    now = datetime.now(UTC)
    rounds = 8
    with Ledger.open(ledger_url) as first, Ledger.open(ledger_url) as second:
        for n in range(rounds):
            node = f"{NODE}-{n}"
            start = threading.Barrier(2)

            def record(
                ledger: Ledger, pid: str, node: str = node, start: threading.Barrier = start
            ) -> bool:
                start.wait(timeout=10)
                try:
                    return ledger.record_proposal(
                        build_proposal(pid, node_id=node, created_at=now),
                        run_id=None, expires_at=now + timedelta(hours=1), exclusive_subject=True,
                    )  # fmt: skip
                except SubjectOpen:
                    return False

            with ThreadPoolExecutor(2) as pool:
                a = pool.submit(record, first, f"p-{n}-a")
                b = pool.submit(record, second, f"p-{n}-b")
                assert sorted([a.result(), b.result()]) == [False, True], node
            assert first.open_proposal_for(node) is not None
        assert len(first.list_proposals()) == rounds
        assert first.audit_report().ok
