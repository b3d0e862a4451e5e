"""Notifications about proposals (new, escalated, expired, executed, failed) to people's tools.

A notifier is anything with `async send(notification)`. The built-in one posts JSON to a
webhook (chat, pager or ticket systems take those), signed with HMAC-SHA256 when a secret is
set, so the receiver can check it came from the platform::

    X-Factory-Signature: sha256=<hex of HMAC-SHA256(secret, body)>

Without a webhook, notifications are only logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from factory_agents.errors import ConnectorError

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Factory-Signature"


class Notification(BaseModel):
    """One event about one proposal, as sent to people."""

    model_config = ConfigDict(frozen=True)

    event: str
    proposal_id: str
    agent: str
    title: str
    detail: str
    at: datetime


class Notifier(Protocol):
    """Something that delivers notifications."""

    async def send(self, notification: Notification) -> None:
        """Deliver one notification (raise ConnectorError if it could not be delivered)."""
        ...


class LogNotifier:
    """Writes notifications to the log: the default when no webhook is configured."""

    async def send(self, notification: Notification) -> None:
        """Log the notification."""
        logger.info(
            "%s: %s (%s) %s", notification.event, notification.title, notification.proposal_id,
            notification.detail,
        )  # fmt: skip


class WebhookNotifier:
    """Posts each notification as JSON to a URL, signed with a shared secret when one is set."""

    def __init__(self, url: str, *, secret: str | None = None, timeout: float = 5.0) -> None:
        self.url = url
        self._secret = secret.encode() if secret else None
        self._timeout = timeout

    def body_and_headers(self, notification: Notification) -> tuple[bytes, dict[str, str]]:
        """The exact bytes posted and their headers (the signature covers the bytes)."""
        body = json.dumps(notification.model_dump(mode="json"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        return body, headers

    async def send(self, notification: Notification) -> None:
        """POST the notification; ConnectorError if the receiver is unreachable or refuses it."""
        body, headers = self.body_and_headers(notification)
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise ConnectorError(
                f"could not post the {notification.event} notification to {self.url}: {err!r};"
                " check FACTORY_WEBHOOK_URL and that the receiver is up"
            ) from err
        if response.status_code >= 300:
            raise ConnectorError(
                f"the webhook {self.url} refused the {notification.event} notification:"
                f" HTTP {response.status_code} {response.text[:200]}"
            )


def notifier_for(url: str | None, secret: str | None) -> Notifier:
    """The webhook notifier when a URL is configured, else the log notifier."""
    return WebhookNotifier(url, secret=secret) if url else LogNotifier()
