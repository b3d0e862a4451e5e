"""Notifications posted to a webhook, signed so the receiver can trust them."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from factory_agents.errors import ConnectorError
from factory_agents.notify import (
    SIGNATURE_HEADER,
    LogNotifier,
    Notification,
    WebhookNotifier,
    notifier_for,
)
from tests.conftest import free_port

NOTE = Notification(
    event="proposed", proposal_id="p-1", agent="spc_drift", title="Lower fill weight",
    detail="estimated 12.00 EUR", at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
)  # fmt: skip


class Receiver(BaseHTTPRequestHandler):
    """Answers with `status` and keeps each body with its signature header."""

    status: ClassVar[int] = 204
    received: ClassVar[list[tuple[bytes, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, self.headers.get(SIGNATURE_HEADER, "")))
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"nope" if type(self).status >= 300 else b"")

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def url() -> Iterator[str]:
    """A receiver on a free loopback port; its URL."""
    Receiver.status, Receiver.received = 204, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_notification_is_posted_with_its_hmac(url: str) -> None:
    await WebhookNotifier(url, secret="s3cret").send(NOTE)
    ((body, header),) = Receiver.received
    assert json.loads(body)["proposal_id"] == "p-1"
    assert header == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


async def test_a_refusing_or_absent_receiver_is_a_connector_error(url: str) -> None:
    Receiver.status = 500
    with pytest.raises(ConnectorError, match="HTTP 500 nope"):
        await WebhookNotifier(url).send(NOTE)
    with pytest.raises(ConnectorError, match="check FACTORY_WEBHOOK_URL"):
        await WebhookNotifier(f"http://127.0.0.1:{free_port()}/", timeout=2).send(NOTE)


def test_without_a_url_notifications_are_logged() -> None:
    assert isinstance(notifier_for(None, None), LogNotifier)
    assert isinstance(notifier_for("http://127.0.0.1:1/", None), WebhookNotifier)
