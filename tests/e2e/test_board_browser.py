"""A plant engineer logs in to the board in headless Chromium, approves a real drift proposal,
and sees it executed on the plant and its realized saving on the Savings page; a manager logs
in after them and gets no Approvals page but the agents' switches. Screenshots of every page
land in test-artifacts/, and those of the SQLite run in docs/images/ for the README."""

from __future__ import annotations

import contextlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from temporalio.service import RPCError

from connectors.simulator.mes import seed_mes
from dashboards.approvals_page import PASSWORD_KEY, USER_KEY, reason_key
from dashboards.formatting import money
from factory_agents.ledger import ProposalView
from factory_agents.site import DEFAULT_POLICY
from workflows.schedules import ensure_agent_schedules, schedule_id

from .browser import ARTIFACTS, Browser, headless_chromium, keyed, read_metrics, running_board
from .conftest import PASSWORD, Platform
from .helpers import eventually, live_setpoint

pytestmark = pytest.mark.e2e

ENGINEER = "bob"
MANAGER = "mona"
REASON = "fill weight drifting high, checked the control chart"
REASON_FIELD = 'input[placeholder="Why approve or reject this change?"]'
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
README_PICTURES = ("login", "approvals", "savings", "plant", "agents")
"""Screenshots the README shows, copied to docs/images/board-NAME.png from the SQLite run."""


def feedback_for(driver: WebDriver, title: str) -> tuple[str, str] | None:
    """The kind (Success, Error, ...) and text of the board's message about `title`, if shown."""
    for alert in driver.find_elements(By.CSS_SELECTOR, '[data-testid^="stAlertContent"]'):
        text = alert.text
        if text.startswith(f"{title}:"):
            kind = str(alert.get_attribute("data-testid")).removeprefix("stAlertContent")
            return kind, text
    return None


async def approve_on_the_board(browser: Browser, proposal_id: str, title: str) -> str:
    """On the Approvals page: give the password and a reason, press Approve; the message."""
    await browser.go_to("Approvals")
    await browser.wait_for_text(title, within=20, what=f"the proposal {title!r} on Approvals")
    await browser.wait_for_value(
        f"{keyed(USER_KEY)} input", ENGINEER, within=20, what="the 'Signed as' field"
    )
    await browser.type_into(f"{keyed(PASSWORD_KEY)} input", PASSWORD, what="the password field")
    await browser.type_into(
        f"{keyed(reason_key(proposal_id))} {REASON_FIELD}", REASON, what="the reason field"
    )
    await browser.screenshot(f"{browser.name}-approvals")
    await browser.click(f"{keyed(f'approve-{proposal_id}')} button", what="the Approve button")
    kind, text = await browser.wait_until(
        lambda d: feedback_for(d, title),
        within=30,
        what=f"the board's answer to approving {title!r}",
    )
    assert kind == "Success", text
    await browser.wait_for_text(
        "Waiting for a decision (0)", within=20, what="the emptied approval queue"
    )
    await browser.screenshot(f"{browser.name}-approvals-approved")
    return text


def publish_pictures(name: str) -> None:
    """Copy this run's README screenshots to docs/images/board-*.png."""
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    for picture in README_PICTURES:
        shutil.copyfile(ARTIFACTS / f"{name}-{picture}.png", DOCS_IMAGES / f"board-{picture}.png")


async def test_an_engineer_approves_on_the_board_and_sees_the_realized_saving(
    platform: Platform, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings, ledger = platform.settings, platform.ledger
    seed_mes(settings.mes_url, settings.sim_seed, anchor=datetime.now(UTC))  # stops and checks
    await ensure_agent_schedules(platform.client, settings, ["spc_drift"], DEFAULT_POLICY)
    backend = request.node.callspec.id
    try:
        async with (
            running_board(settings, user=ENGINEER, log=tmp_path / "board.log") as url,
            headless_chromium(tmp_path / "chromium", name=f"board-{backend}") as browser,
        ):
            # 1. Nobody signed in: the login page only, whatever the URL asks for.
            await browser.open(f"{url}/approvals")
            await browser.wait_for_text("Page not found", within=30, what="/approvals refused")
            await browser.wait_for_text("Log in to factory-agents", within=30, what="login page")
            assert await browser.menu() == [], "no page but the login page, so no menu"
            await browser.open(url)
            await browser.type_into(f"{keyed('login_user')} input", ENGINEER, what="user id")
            await browser.screenshot(f"{browser.name}-login")
            await browser.log_in(ENGINEER, PASSWORD)
            assert await browser.menu() == [
                "Savings", "Plant", "Approvals", "Agents", "Audit", "Copilot",
            ]  # fmt: skip

            # 2. The scheduled agent notices the drift and proposes a correction.
            (pending, *_) = await eventually(
                lambda: ledger.list_proposals("pending"), within=60, what="a pending proposal"
            )
            action = pending.proposal.action
            assert await live_setpoint(settings) == pytest.approx(action.from_value)

            # 3. The engineer approves it on the Approvals page; it is executed and signed.
            message = await approve_on_the_board(browser, pending.id, pending.title)
            assert "executed" in message
            assert await live_setpoint(settings) == pytest.approx(action.to_value)
            decided = ledger.get_proposal(pending.id)
            assert decided is not None and decided.decision is not None
            assert decided.decision.decision == "approve"
            assert (decided.decision.user, decided.decision.reason) == (ENGINEER, REASON)

            # 4. After the verification window, the Savings page shows what was realized.
            def verified() -> ProposalView | None:
                current = ledger.get_proposal(pending.id)
                return current if current is not None and current.status == "verified" else None

            done = await eventually(
                verified, within=settings.verification_seconds + 30, what="verification"
            )
            assert done.realized_amount is not None
            assert len(ledger.list_proposals()) == 1, "the agent proposed again after the fix"
            realized = money(done.realized_amount, done.currency)
            expected = {
                f"Realized saving ({done.currency})": realized,
                "Proposals verified": "1 of 1",
            }
            await browser.go_to("Savings")
            await browser.wait_until(
                lambda d: all(read_metrics(d).get(k) == v for k, v in expected.items()),
                within=30,
                what=f"the Savings page's {expected}",
            )
            # Its last section: the page has rendered whole, breakdown table included.
            await browser.wait_for_text("Language-model cost", within=30, what="the whole page")
            await browser.screenshot(f"{browser.name}-savings")

            # 5. The plant: live tags from the simulator, KPIs from its MES.
            await browser.go_to("Plant")
            await browser.wait_for_text(
                "Units made (good + scrap)", within=30, what="the live counters"
            )
            await browser.wait_for_text("Ratios per period", within=30, what="the KPI trends")
            await browser.screenshot(f"{browser.name}-plant")

            # 6. A manager after the engineer: no Approvals page, but the agents' switches.
            await browser.click(f"{keyed('sign_out')} button", what="the Sign out button")
            await browser.log_in(MANAGER, PASSWORD)
            assert "Approvals" not in await browser.menu()
            await browser.go_to("Agents")
            await browser.wait_for_text("Disable spc_drift", within=30, what="the agent switch")
            await browser.screenshot(f"{browser.name}-agents")
        if backend == "sqlite":
            publish_pictures(browser.name)
    finally:
        with contextlib.suppress(RPCError):
            await platform.client.get_schedule_handle(schedule_id("spc_drift")).delete()
