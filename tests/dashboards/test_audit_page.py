"""The Audit page: the chain's status from verification, and the log searched and paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import audit_data
from factory_agents.ledger import Ledger

from .board import checked, open_board


def events(app: AppTest) -> pd.DataFrame:
    """The events table on the page."""
    (found,) = [f.value for f in app.dataframe if "Seq" in f.value.columns]
    return found


def add_runs(url: str, count: int) -> None:
    """`count` recorded runs of spc_drift: one audit event each."""
    now = datetime.now(UTC)
    with Ledger.open(url) as ledger:
        for n in range(count):
            ledger.record_run(
                run_id=f"run-{n:03d}",
                agent="spc_drift",
                started_at=now,
                finished_at=now,
                status="ok",
                findings=0,
                proposals=0,
                skipped={},
            )


def total_events(url: str) -> int:
    """How many events the seeded trail holds."""
    with Ledger.open(url) as ledger:
        return ledger.audit_report().events


def test_the_chain_status_comes_from_verifying_it(seeded_url: str) -> None:
    app = open_board("ian", page="audit")

    (success,) = app.success
    assert success.value.startswith(f"Chain intact: {total_events(seeded_url):,} events verified")


def test_a_long_chain_is_verified_on_request(
    seeded_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_data, "AUTO_VERIFY_EVENTS", 5)
    app = open_board("mona", page="audit")
    assert not app.success
    assert any("Press the button to verify it now" in info.value for info in app.info)

    app.button(key="verify_chain").click()
    checked(app.run())

    (success,) = app.success
    assert "events verified" in success.value


def test_newest_events_first_with_their_details(seeded_url: str) -> None:
    shown = events(open_board("ada", page="audit"))

    assert list(shown["Seq"]) == sorted(shown["Seq"], reverse=True)
    assert shown["Seq"].iloc[0] == total_events(seeded_url)
    decided = shown[shown["Subject"] == "p-rejected"]
    assert "bob" in set(decided["Actor"])


def test_search_by_subject_actor_and_action(seeded_url: str) -> None:
    app = open_board("ada", page="audit")

    app.text_input(key="audit_subject").input("p-verified-1")
    checked(app.run())
    assert set(events(app)["Subject"]) == {"p-verified-1"}

    app.text_input(key="audit_subject").input("")
    app.text_input(key="audit_actor").input("bob")
    checked(app.run())
    by_bob = events(app)
    assert set(by_bob["Actor"]) == {"bob"} and len(by_bob) >= 4

    app.text_input(key="audit_actor").input("")
    app.text_input(key="audit_action").input("nothing.like.this")
    checked(app.run())
    assert not [f for f in app.dataframe if "Seq" in f.value.columns]
    assert any(c.value == "No event matches." for c in app.caption)


def test_a_day_range_filters_by_time(seeded_url: str) -> None:
    app = open_board("ada", page="audit")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)

    app.date_input(key="audit_to").set_value(yesterday)
    checked(app.run())
    assert any(c.value == "No event matches." for c in app.caption)

    app.date_input(key="audit_to").set_value(None)
    app.date_input(key="audit_from").set_value(yesterday)
    checked(app.run())
    assert len(events(app)) == min(total_events(seeded_url), audit_data.PAGE_SIZE)


def test_older_and_newer_pages(seeded_url: str) -> None:
    add_runs(seeded_url, 60)
    total = total_events(seeded_url)
    app = open_board("ada", page="audit")
    first = events(app)
    assert len(first) == audit_data.PAGE_SIZE and first["Seq"].iloc[0] == total

    app.button(key="audit_older").click()
    checked(app.run())
    second = events(app)
    assert second["Seq"].iloc[0] == total - audit_data.PAGE_SIZE
    assert list(second["Seq"]) == list(range(total - audit_data.PAGE_SIZE, 0, -1))[:50]

    app.button(key="audit_newer").click()
    checked(app.run())
    assert list(events(app)["Seq"]) == list(first["Seq"])
