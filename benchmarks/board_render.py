"""How long the board's pages take to render with a year of ledger rows, against a small ledger.

Run with `make bench` (or `.venv/bin/python benchmarks/board_render.py [--large ROWS]`). Two
SQLite ledgers are filled in a temporary folder, through the real migrations (so the daily
savings trigger and the indexes are there) and bulk inserts (SQLAlchemy Core, 10,000 rows per
statement): about 1,000 rows and about 1,000,000 rows of proposals with their estimated and
realized savings, decisions, actions, agent runs and hash-chained audit events, in the
proportions a running plant produces them, spread over a year, five agents and three lines.

Each page is then rendered by Streamlit's AppTest (the board's entry script, signed in as the
role that uses the page) with every st.cache_data result dropped first (cold queries; the
ledger's connection pool stays open, as in a running board). A page passes when its median
render over REPEATS runs takes under 1 s on the large ledger and under 3× the small one. The
table is printed and written to benchmarks/results/board.json; the exit status is 1 if a page
fails.

The Plant page reads the MES and OPC UA, not the ledger: here both are absent (it says so),
so its row measures the page itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from factory_agents.agent import (  # noqa: E402
    Baseline,
    ControlChart,
    EstimatedSaving,
    Proposal,
    SetpointChange,
)
from factory_agents.ledger import Ledger  # noqa: E402
from factory_agents.ledger.audit import GENESIS_HASH, event_hash  # noqa: E402
from factory_agents.ledger.models import (  # noqa: E402
    ActionRow,
    AgentRun,
    AuditEvent,
    DecisionRow,
    ProposalRow,
    SavingRow,
)

RESULTS = ROOT / "benchmarks" / "results" / "board.json"
APP = ROOT / "dashboards" / "app.py"
SMALL_ROWS, LARGE_ROWS = 1_000, 1_000_000
LIMIT_SECONDS, LIMIT_RATIO = 1.0, 3.0
REPEATS = 3
BATCH = 10_000
SEED = 20_261_124
AGENTS = ("spc_drift", "oven_energy", "defect_burst", "load_shift", "bearing_rul")
LINES = ("line-1", "line-2", "line-3")
PENDING = 12
"""Proposals waiting for a decision, the newest ones (an engineer's queue, not a year of it)."""
PAGES = (  # title, URL path, the user who opens it (role)
    ("Savings", "savings", "mona", "manager"),
    ("Approvals", "approvals", "ada", "engineer"),
    ("Agents", "agents", "mona", "manager"),
    ("Audit", "audit", "ada", "engineer"),
    ("Plant", "plant", "mona", "manager"),
)
VERIFY = "chain check"
"""Info row: verifying the whole audit chain, which the Audit page runs by itself up to
AUTO_VERIFY_EVENTS events and on request beyond (it reads every event)."""
ROWS_PER_PROPOSAL = 1 + 1 + 0.6 + 0.8 + 0.67 + 5.74 + 2.0
"""A proposal, its estimate, 0.6 realized savings, 0.8 decisions, 0.67 actions, 5.74 audit
events and 2 agent runs, on average."""


@dataclass
class Fill:
    """What one ledger holds: rows per table and how long filling it took."""

    rows: dict[str, int]
    seconds: float

    @property
    def total(self) -> int:
        """Rows in every table together."""
        return sum(self.rows.values())


class AuditChain:
    """Audit events with dense seq numbers and a valid hash chain, as append_event writes them."""

    def __init__(self) -> None:
        self.seq, self.head = 0, GENESIS_HASH

    def event(
        self, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        """The next event's row."""
        self.seq += 1
        digest = event_hash(
            self.head, at=at, actor=actor, action=action, subject=subject, details=details
        )
        row = {
            "seq": self.seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
            "prev_hash": self.head,
            "hash": digest,
        }
        self.head = digest
        return row


def proposal_body(pid: str, agent: str, line: str, created: datetime, amount: Decimal) -> Any:
    """A valid proposal (shown on the Approvals page while pending)."""
    times = [created - timedelta(seconds=10 * (5 - i)) for i in range(5)]
    return Proposal(
        proposal_id=pid,
        agent=agent,
        line=line,
        title=f"Lower fill setpoint ({pid})",
        rationale="EWMA of fill weight drifted above its upper limit.",
        action=SetpointChange(
            action_id=f"{pid}-act",
            node_id=f"ns=2;s=Line1.Filler.FillWeightSetpoint.{pid}",
            from_value=500.5,
            to_value=500.0,
            unit="g",
        ),
        evidence=ControlChart(
            characteristic="fill_weight",
            unit="g",
            times=times,
            values=[500.1, 500.3, 500.9, 501.2, 501.4],
            ewma=[500.1, 500.2, 500.4, 500.6, 500.8],
            center=500.0,
            sigma=0.4,
            ewma_lcl=499.6,
            ewma_ucl=500.4,
            lsl=497.0,
            usl=503.0,
            signals={3: ["ewma above UCL"], 4: ["ewma above UCL"]},
        ),
        estimated_saving=EstimatedSaving(
            amount=amount,
            horizon_hours=1.0,
            formula="overfill_g * units_per_hour * horizon_h * cost_per_g",
            inputs={"overfill_g": 0.8, "units_per_hour": 3600.0},
            assumptions=["throughput stays at 3600 units/h"],
        ),
        baseline=Baseline(
            metric="out_of_spec_ratio",
            value=0.04,
            units=600,
            start=created - timedelta(hours=1),
            end=created,
            method="out-of-spec share of the units weighed since the shift",
        ),
        unit_cost=Decimal("0.21"),
        counters=("ns=2;s=Line1.GoodCount", "ns=2;s=Line1.ScrapCount"),
        created_at=created,
    ).model_dump(mode="json")


def generate(target_rows: int, now: datetime) -> Iterator[tuple[Table, dict[str, Any]]]:
    """Rows for a ledger of about `target_rows`, oldest first, table by table per proposal."""
    rng = random.Random(SEED + target_rows)
    proposals = max(int(target_rows / ROWS_PER_PROPOSAL), PENDING + 1)
    chain = AuditChain()
    start = now - timedelta(days=365)
    step = (now - timedelta(hours=1) - start) / proposals
    template: dict[str, Any] | None = None
    for number in range(proposals):
        created = start + step * number
        pid = f"p{number:07d}"
        agent, line = rng.choice(AGENTS), rng.choice(LINES)
        amount = Decimal(rng.randint(500, 40_000)) / 100
        pending = number >= proposals - PENDING
        roll = rng.random()
        decided = not pending and roll < 0.8
        approved = decided and roll < 0.68
        executed = approved and roll < 0.67
        verified = executed and roll < 0.60
        status = (
            "pending"
            if pending
            else "verified"
            if verified
            else "executed"
            if executed
            else "rejected"
            if decided and not approved
            else "approved"
            if approved
            else "expired"
        )
        if pending:
            body = proposal_body(pid, agent, line, created, amount)
        else:
            template = template or proposal_body("p-template", agent, line, created, amount)
            body = template  # history: the body is read only when a proposal is opened
        run_id = f"run-{number:07d}"
        for run in (0, 1):
            yield (
                AgentRun.__table__,
                {
                    "id": f"{run_id}-{run}",
                    "agent": agent,
                    "started_at": created - timedelta(seconds=20 * (1 - run) + 2),
                    "finished_at": created - timedelta(seconds=20 * (1 - run)),
                    "status": "proposed" if run else "ok",
                    "findings": run,
                    "proposals": run,
                    "skipped": {} if rng.random() < 0.9 else {"stale": 1},
                    "message": "",
                },
            )
            yield (
                AuditEvent.__table__,
                chain.event(created, agent, "run.recorded", f"{run_id}-{run}", {"status": "ok"}),
            )
        yield (
            ProposalRow.__table__,
            {
                "id": pid,
                "run_id": f"{run_id}-1",
                "agent": agent,
                "line": line,
                "subject": f"ns=2;s=Line1.Filler.FillWeightSetpoint.{pid}",
                "title": f"Lower fill setpoint ({pid})",
                "rationale": "EWMA of fill weight drifted above its upper limit.",
                "body": body,
                "content_hash": f"{number:064x}",
                "status": status,
                "created_at": created,
                "expires_at": now + timedelta(hours=1) if pending else created + timedelta(hours=1),
                "updated_at": created,
            },
        )
        yield (
            SavingRow.__table__,
            {
                "proposal_id": pid,
                "kind": "estimated",
                "agent": agent,
                "line": line,
                "amount": amount,
                "currency": "EUR",
                "period_hours": 1.0,
                "baseline": {"metric": "out_of_spec_ratio", "value": 0.04},
                "method": "overfill avoided",
                "recorded_at": created,
            },
        )
        yield (
            AuditEvent.__table__,
            chain.event(created, agent, "proposal.recorded", pid, {"amount": str(amount)}),
        )
        if not decided:
            continue
        decided_at = created + timedelta(minutes=rng.randint(1, 40))
        verb = "approve" if approved else "reject"
        yield (
            DecisionRow.__table__,
            {
                "proposal_id": pid,
                "decision": verb,
                "user": rng.choice(("ada", "grace", "bob")),
                "reason": "checked the control chart",
                "proposal_hash": f"{number:064x}",
                "decided_at": decided_at,
                "method": "signed",
            },
        )
        yield (
            AuditEvent.__table__,
            chain.event(decided_at, "ada", f"decision.{verb}", pid, {"reason": "checked"}),
        )
        if not executed:
            continue
        executed_at = decided_at + timedelta(seconds=5)
        yield (
            ActionRow.__table__,
            {
                "id": f"{pid}-act",
                "proposal_id": pid,
                "kind": "setpoint_change",
                "subject": f"ns=2;s=Line1.Filler.FillWeightSetpoint.{pid}",
                "details": {"to_value": 500.0},
                "from_value": 500.5,
                "to_value": 500.0,
                "read_back": 500.0,
                "reference": None,
                "status": "executed",
                "executed_at": executed_at,
                "message": "",
            },
        )
        yield AuditEvent.__table__, chain.event(executed_at, agent, "action.started", pid, {})
        yield AuditEvent.__table__, chain.event(executed_at, agent, "action.executed", pid, {})
        if not verified:
            continue
        measured = executed_at + timedelta(minutes=1)
        yield (
            SavingRow.__table__,
            {
                "proposal_id": pid,
                "kind": "realized",
                "agent": agent,
                "line": line,
                "amount": (amount * Decimal(rng.uniform(-0.002, 0.04))).quantize(Decimal("0.01")),
                "currency": "EUR",
                "period_hours": 1 / 60,
                "baseline": {"metric": "out_of_spec_ratio", "value": 0.04},
                "method": "out-of-spec ratio before minus after",
                "recorded_at": measured,
            },
        )
        yield AuditEvent.__table__, chain.event(measured, agent, "saving.realized", pid, {})


def fill(url: str, target_rows: int) -> Fill:
    """Create the ledger at `url` (migrations) and bulk-insert about `target_rows` rows."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    with Ledger.open(url) as ledger:
        order = (AgentRun, ProposalRow, SavingRow, DecisionRow, ActionRow, AuditEvent)
        buffers: dict[str, list[dict[str, Any]]] = {m.__tablename__: [] for m in order}
        tables = {m.__tablename__: m.__table__ for m in order}
        counts = dict.fromkeys(buffers, 0)

        def flush(connection: Any) -> None:
            """Insert every buffered row, parents first, so foreign keys hold."""
            for model in order:
                name = model.__tablename__
                if buffers[name]:
                    connection.execute(insert(tables[name]), buffers[name])
                    counts[name] += len(buffers[name])
                    buffers[name] = []

        with ledger.engine.begin() as connection:
            for table, row in generate(target_rows, now):
                buffers[table.name].append(row)
                if len(buffers[table.name]) >= BATCH:
                    flush(connection)
            flush(connection)
    return Fill(rows=counts, seconds=time.perf_counter() - started)


BARE_MODE_WARNERS = (
    "streamlit.runtime.caching.cache_data_api",
    "streamlit.runtime.scriptrunner_utils.script_run_context",
)
"""Streamlit loggers that warn on every cache clear outside a script run (harmless here)."""


def board_user(user_id: str, role: str) -> Any:
    """A signed-in board user with this role."""
    from dashboards.session import BoardUser
    from factory_agents.identity import Role

    return BoardUser(user_id, user_id.title(), (Role(role),), ("*",))


def render(url_path: str, user_id: str, role: str) -> float:
    """Seconds one cold render of the page takes (query caches dropped first)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    from dashboards.session import ACTIVITY_KEY, USER_KEY, clock

    for bare_mode_warner in BARE_MODE_WARNERS:  # clearing the cache outside a script run
        logging.getLogger(bare_mode_warner).setLevel(logging.ERROR)
    st.cache_data.clear()
    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state[USER_KEY] = board_user(user_id, role)
    app.session_state[ACTIVITY_KEY] = clock()
    app._page_hash = calc_hash(url_path)  # the page at /url_path, as a browser asks for it
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{url_path}: {[e.value for e in app.exception]}")
    shown = [t.value for t in app.title]
    if shown[:1] != [dict((p[1], p[0]) for p in PAGES)[url_path]]:
        raise RuntimeError(f"{url_path} rendered {shown} instead")
    if app.error:
        raise RuntimeError(f"{url_path} showed errors: {[e.value for e in app.error]}")
    return elapsed


def measure(url: str) -> dict[str, float]:
    """Median cold render time of every page on the ledger at `url`, and of a chain check."""
    os.environ["FACTORY_DATABASE_URL"] = url
    render("savings", "mona", "manager")  # opens the ledger's connection pool (not measured)
    times = {
        title: statistics.median(render(path, user, role) for _ in range(REPEATS))
        for title, path, user, role in PAGES
    }
    with Ledger.open(url) as ledger:
        started = time.perf_counter()
        report = ledger.audit_report()
        times[VERIFY] = time.perf_counter() - started
    if not report.ok:
        raise RuntimeError(f"the generated audit chain does not verify: {report.problems[:3]}")
    return times


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settle_environment(folder: Path) -> None:
    """FACTORY_* settings of a board with no MES and no OPC UA server (both reported absent)."""
    os.environ["FACTORY_HOME"] = str(folder)
    os.environ["FACTORY_MES_DATABASE_URL"] = f"sqlite:///{folder / 'no-mes.db'}"
    os.environ["FACTORY_OPCUA_ENDPOINT"] = f"opc.tcp://127.0.0.1:{free_port()}/factory-agents/"
    for name in [n for n in os.environ if n.startswith("FACTORY_LLM_")]:
        del os.environ[name]


def check_plans(url: str) -> None:
    """Fail loudly if the daily sums disagree with the savings they sum (trigger check)."""
    from factory_agents.ledger.models import SavingsDaily

    with Ledger.open(url) as ledger, Session(ledger.engine) as session:
        summed = session.execute(select(func.sum(SavingsDaily.estimated_amount))).scalar()
        direct = session.execute(
            select(func.sum(SavingRow.amount)).where(SavingRow.kind == "estimated")
        ).scalar()
    if summed != direct:
        raise RuntimeError(f"savings_daily sums {summed}, savings hold {direct}")


def main() -> int:
    """Fill both ledgers, render every page on each, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=SMALL_ROWS, help="rows of the small ledger")
    parser.add_argument("--large", type=int, default=LARGE_ROWS, help="rows of the large ledger")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="board-bench-") as tmp:
        folder = Path(tmp)
        settle_environment(folder)
        fills, times = {}, {}
        for name, rows in (("small", args.small), ("large", args.large)):
            url = f"sqlite:///{folder / f'{name}.db'}"
            print(f"filling the {name} ledger with about {rows:,} rows ...", flush=True)
            fills[name] = fill(url, rows)
            check_plans(url)
            print(
                f"  {fills[name].total:,} rows in {fills[name].seconds:.0f} s: "
                + ", ".join(f"{t} {n:,}" for t, n in fills[name].rows.items()),
                flush=True,
            )
            times[name] = measure(url)
    small, large = fills["small"].total, fills["large"].total
    print(
        f"\nCold render (median of {REPEATS}) with {small:,} and {large:,} ledger rows;"
        f" PASS: under {LIMIT_SECONDS:g} s and under {LIMIT_RATIO:g}× the small case"
    )
    print(f"{'page':<12}{'small s':>10}{'large s':>10}{'ratio':>8}  verdict")
    results, failures = [], 0
    for title, *_rest in PAGES:
        fast, slow = times["small"][title], times["large"][title]
        ratio = slow / fast if fast else float("inf")
        passed = slow < LIMIT_SECONDS and ratio < LIMIT_RATIO
        failures += not passed
        print(f"{title:<12}{fast:>10.3f}{slow:>10.3f}{ratio:>8.2f}  {'PASS' if passed else 'FAIL'}")
        results.append(
            {
                "page": title,
                "small_seconds": round(fast, 4),
                "large_seconds": round(slow, 4),
                "ratio": round(ratio, 3),
                "passed": passed,
            }
        )
    fast, slow = times["small"][VERIFY], times["large"][VERIFY]
    print(f"{VERIFY:<12}{fast:>10.3f}{slow:>10.3f}{slow / fast:>8.0f}  info (on request)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "repeats": REPEATS,
                "limit_seconds": LIMIT_SECONDS,
                "limit_ratio": LIMIT_RATIO,
                "ledgers": {
                    name: {"rows": fill.total, "tables": fill.rows, "fill_seconds": fill.seconds}
                    for name, fill in fills.items()
                },
                "pages": results,
                "chain_check_seconds": {
                    "small": round(times["small"][VERIFY], 4),
                    "large": round(times["large"][VERIFY], 4),
                },
            },
            indent=2,
        )
        + "\n"
    )
    verdict = "FAIL" if failures else "PASS"
    print(f"{verdict}: {len(PAGES) - failures} of {len(PAGES)} pages within the limits; {RESULTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
