"""An MES reached through its REST API (httpx): the MesSource and MesWriter ports over HTTP.

The API it speaks (served for the simulated plant by connectors/simulator/mes_rest.py):

- ``GET {base}/records/{kind}?since=..&until=..&limit=..`` returns
  ``{"items": [...], "next": <link or null>}``; a page may give ``"cursor"`` instead of
  ``"next"``, sent back as ``?cursor=``. Pages are followed until neither is given, at most
  `max_pages` pages per kind.
- ``POST {base}/actions/lot-holds`` (LotHold), ``/actions/lot-releases``
  (``{"hold": LotHold, "reason": ...}``), ``/actions/purchase-requisitions``,
  ``/actions/dispatch-lists``, ``/actions/maintenance-orders``, ``/actions/load-plans``, each
  with an ``Idempotency-Key`` header (the action id; ``<action id>:release`` for releases),
  answering a MesWriteResult.

Errors: a refused write (4xx) is WriteRejected with the server's message (final); 401/403 is
a ConfigurationError (fix the credentials); 5xx, 408, 429, timeouts and network errors are
ConnectorError (worth retrying: every write is idempotent on its key).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx
from pydantic import BaseModel, ValidationError

from connectors.base import MesWriteResult
from connectors.mes.records import RECORD_MODELS
from factory_agents.actions import (
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
)
from factory_agents.errors import ConfigurationError, ConnectorError, WriteRejected
from factory_agents.isa95 import MesData, MesKind

RETRYABLE_4XX = (408, 425, 429)
"""Client errors that say "try again later" rather than "no"."""


class RestMes:
    """The MES behind a REST API at `base_url`, with bearer-token or basic auth.

    Example::

        async with RestMes("https://mes.example/api/v1", token=os.environ["MES_TOKEN"]) as mes:
            data = await mes.fetch(["lots"], since, until)
            await mes.hold_lots(LotHold(action_id="a-1", lot_ids=("L-1",), reason="burst"))
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        page_size: int = 500,
        max_pages: int = 1000,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{base_url!r} is not an HTTP(S) URL; give the MES API's base URL, such as"
                " http://127.0.0.1:8600/api/v1"
            )
        if token is not None and username is not None:
            raise ConfigurationError("give either a bearer token or a username, not both")
        if (username is None) != (password is None):
            raise ConfigurationError("basic auth needs both a username and a password")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ConfigurationError("the MES timeouts must be positive seconds")
        if page_size < 1 or max_pages < 1:
            raise ConfigurationError("page_size and max_pages must be at least 1")
        self.base_url = base_url.rstrip("/") + "/"
        self.page_size = page_size
        self.max_pages = max_pages
        self._token = token
        self._auth = httpx.BasicAuth(username, password) if username and password else None
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> RestMes:
        self._http()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(self, kinds: Sequence[MesKind], since: datetime, until: datetime) -> MesData:
        """The records of `kinds`; events in [since, until], every page followed."""
        if since.tzinfo is None or until.tzinfo is None:
            raise ValueError("MES fetch times must be timezone-aware (UTC)")
        unknown = sorted(set(kinds) - set(RECORD_MODELS))
        if unknown:
            raise ConnectorError(
                f"the MES cannot read {unknown}; known kinds: {sorted(RECORD_MODELS)}"
            )
        found: dict[str, Any] = {"read_at": until}
        for kind in dict.fromkeys(kinds):
            found[kind] = tuple(await self._read_kind(kind, since, until))
        return MesData(**found)

    async def hold_lots(self, action: LotHold) -> MesWriteResult:
        """Put the lots on hold."""
        return await self._post("actions/lot-holds", action.action_id, _body(action))

    async def release_lots(self, action: LotHold, reason: str) -> MesWriteResult:
        """Undo a hold this action placed."""
        body = {"hold": _body(action), "reason": reason}
        return await self._post("actions/lot-releases", f"{action.action_id}:release", body)

    async def create_purchase_requisition(self, action: PurchaseRequisition) -> MesWriteResult:
        """Create a purchase requisition."""
        return await self._post("actions/purchase-requisitions", action.action_id, _body(action))

    async def publish_dispatch_list(self, action: DispatchList) -> MesWriteResult:
        """Publish a dispatch list for a line."""
        return await self._post("actions/dispatch-lists", action.action_id, _body(action))

    async def create_maintenance_order(self, action: MaintenanceWorkOrder) -> MesWriteResult:
        """Create a maintenance work order."""
        return await self._post("actions/maintenance-orders", action.action_id, _body(action))

    async def publish_load_plan(self, action: LoadShift) -> MesWriteResult:
        """Publish a load plan for a site."""
        return await self._post("actions/load-plans", action.action_id, _body(action))

    async def _read_kind(self, kind: str, since: datetime, until: datetime) -> list[Any]:
        """Every record of one kind, page after page."""
        model = RECORD_MODELS[kind]
        url = urljoin(self.base_url, f"records/{kind}")
        params: dict[str, str] | None = {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "limit": str(self.page_size),
        }
        records: list[Any] = []
        for _page in range(self.max_pages):
            page = await self._get_json(url, params, f"read {kind}")
            records += [_record(model, kind, item) for item in _items(page, kind)]
            link, cursor = page.get("next"), page.get("cursor")
            if link:
                url, params = urljoin(url, str(link)), None
            elif cursor:
                params = {**(params or {}), "cursor": str(cursor)}
            else:
                return records
        raise ConnectorError(
            f"the MES at {self.base_url} gave more than {self.max_pages} pages of {kind}; raise"
            " max_pages or page_size, or shorten the agent's MES look-back"
        )

    async def _get_json(self, url: str, params: dict[str, str] | None, doing: str) -> Any:
        response = await self._send("GET", url, doing, params=params)
        if response.status_code >= 400:
            raise self._read_error(response, doing)
        return _json(response, doing)

    async def _post(self, path: str, key: str, body: dict[str, Any]) -> MesWriteResult:
        doing = f"write {path.rsplit('/', 1)[-1]} ({key})"
        url = urljoin(self.base_url, path)
        response = await self._send("POST", url, doing, json=body, headers={"Idempotency-Key": key})
        if response.status_code >= 400:
            raise self._write_error(response, doing)
        try:
            return MesWriteResult.model_validate(_json(response, doing))
        except ValidationError as err:
            raise ConnectorError(
                f"the MES at {self.base_url} answered {doing} with something that is not a"
                f" write result: {err}"
            ) from err

    async def _send(self, method: str, url: str, doing: str, **kwargs: Any) -> httpx.Response:
        """One request; timeouts and network errors become ConnectorError."""
        try:
            return await self._http().request(method, url, **kwargs)
        except httpx.TimeoutException as err:
            raise ConnectorError(
                f"the MES at {self.base_url} did not answer in time to {doing}"
                f" ({type(err).__name__}; connect {self._timeout.connect:g} s, read"
                f" {self._timeout.read:g} s). It may be overloaded; the call can be retried"
            ) from err
        except httpx.HTTPError as err:
            raise ConnectorError(
                f"could not reach the MES at {self.base_url} to {doing}: {err!r}. Check the"
                " address and network; the call can be retried"
            ) from err

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Accept": "application/json"}
            if self._token is not None:
                headers["Authorization"] = f"Bearer {self._token}"
            self._client = httpx.AsyncClient(
                auth=self._auth, headers=headers, timeout=self._timeout, transport=self._transport
            )
        return self._client

    def _common_error(self, response: httpx.Response, doing: str) -> Exception | None:
        message = _message(response)
        if response.status_code in (401, 403):
            return ConfigurationError(
                f"the MES at {self.base_url} refused our credentials to {doing}"
                f" ({response.status_code}: {message}); check the token or user and password"
                " in the connector's configuration"
            )
        if response.status_code >= 500 or response.status_code in RETRYABLE_4XX:
            return ConnectorError(
                f"the MES at {self.base_url} failed to {doing} ({response.status_code}:"
                f" {message}); the call can be retried"
            )
        return None

    def _read_error(self, response: httpx.Response, doing: str) -> Exception:
        common = self._common_error(response, doing)
        if common is not None:
            return common
        if response.status_code == 404:
            return ConfigurationError(
                f"the MES at {self.base_url} has no {response.request.url.path} to {doing}"
                f" (404: {_message(response)}); check the base URL"
            )
        return ConnectorError(
            f"the MES at {self.base_url} refused to {doing} ({response.status_code}:"
            f" {_message(response)})"
        )

    def _write_error(self, response: httpx.Response, doing: str) -> Exception:
        common = self._common_error(response, doing)
        if common is not None:
            return common
        return WriteRejected(
            f"the MES refused to {doing} ({response.status_code}): {_message(response)}"
        )


def _body(action: BaseModel) -> dict[str, Any]:
    body: dict[str, Any] = action.model_dump(mode="json")
    return body


def _json(response: httpx.Response, doing: str) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise ConnectorError(
            f"the MES answered {doing} with something that is not JSON"
            f" ({response.headers.get('content-type', 'no content type')})"
        ) from err


def _items(page: Any, kind: str) -> list[Any]:
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise ConnectorError(f"the MES answered a read of {kind} without an `items` list")
    items: list[Any] = page["items"]
    return items


def _record(model: type[BaseModel], kind: str, item: Any) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as err:
        raise ConnectorError(f"the MES sent a {kind} record that is not valid: {err}") from err


def _message(response: httpx.Response) -> str:
    """The server's own explanation: `error` or `detail` of a JSON body, else the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict):
        for key in ("error", "detail", "message"):
            if body.get(key):
                return str(body[key])
    return str(body)[:500]
