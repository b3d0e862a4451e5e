"""Audit trail reports for a period: the events as CSV and a signed-off HTML report.

The HTML report states the period, the chain's verification result over the whole trail,
the events by kind, every decision's signature, and the SHA-256 of the CSV file, signed off
by the person who exported it (their name, role and the time, and an HMAC over the digest
with the platform's signing key, so a changed CSV or report can be told apart).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from factory_agents.ledger.audit import AuditReport
from factory_agents.ledger.models import AuditEvent

COLUMNS = ("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash")
DECISION_EVENTS = ("proposal.approved", "proposal.rejected", "proposal.signed")


@dataclass(frozen=True)
class SignOff:
    """Who exported the report, and the key that signs its digest."""

    user_id: str
    full_name: str
    role: str
    key: bytes


@dataclass(frozen=True)
class ExportedReport:
    """The files written and what they hold."""

    csv_path: Path
    html_path: Path
    events: int
    sha256: str
    signature: str


def events_between(session: Session, start: datetime, end: datetime) -> list[AuditEvent]:
    """The audit events with start <= at < end, in chain order."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.seq)
    )
    return list(session.scalars(stmt))


def events_csv(events: list[AuditEvent]) -> bytes:
    """The events as CSV (UTF-8, one row per event, details as canonical JSON)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in events:
        details = json.dumps(e.details, sort_keys=True, separators=(",", ":"))
        writer.writerow(
            (e.seq, e.at.isoformat(), e.actor, e.action, e.subject, details, e.prev_hash, e.hash)
        )
    return out.getvalue().encode()


def export_report(
    events: list[AuditEvent],
    chain: AuditReport,
    *,
    start: datetime,
    end: datetime,
    folder: Path,
    sign_off: SignOff,
    now: datetime,
) -> ExportedReport:
    """Write audit-<start>-<end>.csv and .html into `folder`; returns their digest and signature."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"audit-{start:%Y%m%d}-{end:%Y%m%d}"
    data = events_csv(events)
    digest = hashlib.sha256(data).hexdigest()
    signature = hmac.new(
        sign_off.key, f"{digest}|{sign_off.user_id}|{now.isoformat()}".encode(), hashlib.sha256
    ).hexdigest()
    csv_path, html_path = folder / f"{stem}.csv", folder / f"{stem}.html"
    csv_path.write_bytes(data)
    html_path.write_text(
        _html(events, chain, start=start, end=end, digest=digest, signature=signature,
              sign_off=sign_off, now=now, csv_name=csv_path.name),
        encoding="utf-8",
    )  # fmt: skip
    return ExportedReport(csv_path, html_path, len(events), digest, signature)


def _html(
    events: list[AuditEvent],
    chain: AuditReport,
    *,
    start: datetime,
    end: datetime,
    digest: str,
    signature: str,
    sign_off: SignOff,
    now: datetime,
    csv_name: str,
) -> str:
    """The report page: period, chain status, counts, decisions, sign-off."""
    e = html.escape
    status = (
        f"intact: {chain.events} events, hash chain verified"
        if chain.ok
        else "BROKEN: " + "; ".join(chain.problems)
    )
    counts = Counter(event.action for event in events)
    count_rows = "".join(
        f"<tr><td>{e(action)}</td><td>{n}</td></tr>" for action, n in sorted(counts.items())
    )
    decisions = [ev for ev in events if ev.action in DECISION_EVENTS]
    decision_rows = "".join(
        "<tr>"
        f"<td>{ev.seq}</td><td>{e(ev.at.astimezone(UTC).isoformat())}</td><td>{e(ev.subject)}</td>"
        f"<td>{e(ev.action.removeprefix('proposal.'))}</td><td>{e(ev.actor)}</td>"
        f"<td>{e(str(ev.details.get('full_name') or ''))}</td>"
        f"<td>{e(str(ev.details.get('role') or ''))}</td>"
        f"<td>{e(str(ev.details.get('reason') or ''))}</td>"
        f"<td><code>{e(str(ev.details.get('proposal_hash') or '')[:16])}</code></td>"
        f"<td>{e(str(ev.details.get('method') or ''))}</td>"
        "</tr>"
        for ev in decisions
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Audit report {start:%Y-%m-%d} to {end:%Y-%m-%d}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px 8px;text-align:left}}code{{font-size:90%}}</style></head>
<body>
<h1>factory-agents audit report</h1>
<p>Period (UTC): {e(start.isoformat())} to {e(end.isoformat())}; {len(events)} events.</p>
<h2>Audit chain</h2><p><strong>{e(status)}</strong></p>
<h2>Events by kind</h2><table><tr><th>action</th><th>events</th></tr>{count_rows}</table>
<h2>Decisions and signatures</h2>
<table><tr><th>seq</th><th>at</th><th>proposal</th><th>meaning</th><th>user</th><th>full name</th>
<th>role</th><th>reason</th><th>proposal SHA-256</th><th>method</th></tr>{decision_rows}</table>
<h2>Sign-off</h2>
<p>Events file: {e(csv_name)}, SHA-256 <code>{digest}</code>.</p>
<p>Exported and signed off by {e(sign_off.full_name)} ({e(sign_off.user_id)}, {e(sign_off.role)})
at {e(now.isoformat())}; signature <code>{signature}</code>.</p>
</body></html>
"""
