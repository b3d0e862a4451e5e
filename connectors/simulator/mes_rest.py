"""The simulated MES over HTTP: a Starlette app serving an MES (SqlMes on the reference schema)
through the REST API RestMes speaks, and a helper running it with uvicorn.

API (all bodies JSON; times ISO 8601 with an offset; errors are ``{"error": "..."}``)::

    GET  /                              what is served: kinds and action paths
    GET  /records/{kind}                records of one kind (the MesKind names)
         ?since=..&until=..             the window of time-stamped records (required)
         &limit=N                       page size (default 500, at most 5000)
         &cursor=C                      the page after C (opaque; from the previous page)
         200 {"kind", "items": [...], "next": link or null, "cursor": C or null}
    POST /actions/lot-holds             body LotHold
    POST /actions/lot-releases          body {"hold": LotHold, "reason": "..."}
    POST /actions/purchase-requisitions body PurchaseRequisition
    POST /actions/dispatch-lists        body DispatchList
    POST /actions/maintenance-orders    body MaintenanceWorkOrder
    POST /actions/load-plans            body LoadShift
         header Idempotency-Key: the action id (``<action id>:release`` for releases)
         201 MesWriteResult             done now
         200 MesWriteResult             done before under this key (already_applied true)
         400 no or malformed body, no Idempotency-Key, or a key that is not the action's
         409 refused as inconsistent with the MES (unknown lot, illegal status change, ...)
         422 a body that is not a valid action (a negative quantity, ...), or a key reused
             for another request
    401 with WWW-Authenticate           missing or wrong credentials (when a token or user
                                        is configured)
    404 unknown path or kind; 503 the MES database failed (retry)

Run it against the simulated plant's MES database (Ctrl-C stops it)::

    python -m connectors.simulator.mes_rest --mes-url sqlite:///.factory/mes.db --port 8600

Example (in code: serve the simulated MES on port 8600 with a token)::

    with MesRestServer(create_app(SqlMes("sqlite:///.factory/mes.db"), token="s3cret"),
                       port=8600) as server:
        print(server.url)   # http://127.0.0.1:8600
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Any, get_args
from urllib.parse import urlencode

import uvicorn
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.base import MesSource, MesWriter, MesWriteResult
from factory_agents.actions import (
    DispatchList,
    LoadShift,
    LotHold,
    MaintenanceWorkOrder,
    PurchaseRequisition,
)
from factory_agents.errors import ConfigurationError, ConnectorError, WriteRejected
from factory_agents.isa95 import MesKind

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000
KINDS: tuple[str, ...] = get_args(MesKind)


_Handler = Callable[[Request], Awaitable[Response]]


class ReleaseRequest(BaseModel):
    """The body of a lot release: the hold to undo, and why."""

    hold: LotHold
    reason: str


class _MesApi:
    """The request handlers around one MES, with its credentials and idempotency record."""

    def __init__(
        self,
        mes: Any,
        token: str | None,
        basic: tuple[str, str] | None,
        max_page_size: int,
    ) -> None:
        if not (isinstance(mes, MesSource) and isinstance(mes, MesWriter)):
            raise ConfigurationError("the MES REST app needs an MES that reads and writes")
        self.mes = mes
        self.token = token
        self.basic = basic
        self.max_page_size = max_page_size
        self.keys: dict[str, str] = {}  # Idempotency-Key -> fingerprint of its request

    def authorized(self, request: Request) -> bool:
        """Whether the request carries the configured credentials (always, when none are)."""
        header = request.headers.get("authorization", "")
        if self.token is not None:
            scheme, _, given = header.partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(given, self.token)
        if self.basic is not None:
            scheme, _, encoded = header.partition(" ")
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return scheme.lower() == "basic" and hmac.compare_digest(
                f"{user}:{password}", ":".join(self.basic)
            )
        return True

    def guarded(self, handler: _Handler) -> _Handler:
        """The handler, answering 401 to requests without the configured credentials."""

        async def check(request: Request) -> Response:
            if self.authorized(request):
                return await handler(request)
            response = _error(401, "missing or wrong credentials for the MES API")
            scheme = "Bearer" if self.token is not None else "Basic"
            response.headers["WWW-Authenticate"] = f'{scheme} realm="mes"'
            return response

        return check

    async def index(self, request: Request) -> Response:
        """What the API serves."""
        return JSONResponse({"kinds": list(KINDS), "actions": [path for path, _ in ACTIONS]})

    async def records(self, request: Request) -> Response:
        """One page of records of one kind in a time window."""
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return _error(404, f"no record kind {kind!r}; known kinds: {', '.join(KINDS)}")
        try:
            since = _aware(request.query_params.get("since"), "since")
            until = _aware(request.query_params.get("until"), "until")
            limit = int(request.query_params.get("limit", DEFAULT_PAGE_SIZE))
            offset = int(request.query_params.get("cursor", "0"))
        except ValueError as err:
            return _error(400, str(err))
        if not 1 <= limit <= self.max_page_size or offset < 0:
            return _error(400, f"limit must be 1..{self.max_page_size} and cursor from a page")
        try:
            data = await self.mes.fetch([kind], since, until)
        except ConnectorError as err:
            return _error(503, str(err))
        records = getattr(data, kind)
        page = records[offset : offset + limit]
        more = offset + limit < len(records)
        cursor = str(offset + limit) if more else None
        link = None
        if cursor is not None:
            query = {**request.query_params, "cursor": cursor, "limit": str(limit)}
            link = f"{request.url.path}?{urlencode(query)}"
        items = [record.model_dump(mode="json") for record in page]
        return JSONResponse({"kind": kind, "items": items, "next": link, "cursor": cursor})

    def action(
        self,
        model: type[BaseModel],
        key_of: Callable[[Any], str],
        write: Callable[[Any], Awaitable[MesWriteResult]],
    ) -> _Handler:
        """A handler for one kind of write: parse, check the key, write, answer."""

        async def handle(request: Request) -> Response:
            key = request.headers.get("idempotency-key")
            if not key:
                return _error(400, "send an Idempotency-Key header (the action id)")
            body = await request.body()
            try:
                parsed = model.model_validate_json(body)
            except ValidationError as err:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
                )
                status = 400 if not body or _not_json(body) else 422
                return _error(status, f"not a valid {model.__name__}: {problems}")
            if key != key_of(parsed):
                return _error(
                    400, f"the Idempotency-Key {key!r} is not this action's ({key_of(parsed)!r})"
                )
            fingerprint = hashlib.sha256(
                json.dumps(json.loads(body), sort_keys=True).encode()
            ).hexdigest()
            seen = self.keys.setdefault(key, fingerprint)
            if seen != fingerprint:
                return _error(
                    422, f"the Idempotency-Key {key!r} was used before for a different request"
                )
            try:
                result = await write(parsed)
            except WriteRejected as err:
                return _error(409, str(err))
            except ConfigurationError as err:
                return _error(501, str(err))
            except ConnectorError as err:
                return _error(503, str(err))
            status = 200 if result.already_applied else 201
            return JSONResponse(result.model_dump(mode="json"), status_code=status)

        return handle


ACTIONS: tuple[tuple[str, str], ...] = (
    ("/actions/lot-holds", "hold_lots"),
    ("/actions/lot-releases", "release_lots"),
    ("/actions/purchase-requisitions", "create_purchase_requisition"),
    ("/actions/dispatch-lists", "publish_dispatch_list"),
    ("/actions/maintenance-orders", "create_maintenance_order"),
    ("/actions/load-plans", "publish_load_plan"),
)


def create_app(
    mes: Any,
    *,
    token: str | None = None,
    basic: tuple[str, str] | None = None,
    max_page_size: int = MAX_PAGE_SIZE,
) -> Starlette:
    """The REST app serving `mes` (a MesSource and MesWriter, e.g. SqlMes on the simulator)."""
    if token is not None and basic is not None:
        raise ConfigurationError("give the MES REST app a token or a user, not both")
    api = _MesApi(mes, token, basic, max_page_size)
    writes: dict[str, tuple[type[BaseModel], Callable[[Any], str], Any]] = {
        "hold_lots": (LotHold, lambda a: a.action_id, mes.hold_lots),
        "release_lots": (
            ReleaseRequest,
            lambda r: f"{r.hold.action_id}:release",
            lambda r: mes.release_lots(r.hold, r.reason),
        ),
        "create_purchase_requisition": (
            PurchaseRequisition,
            lambda a: a.action_id,
            mes.create_purchase_requisition,
        ),
        "publish_dispatch_list": (DispatchList, lambda a: a.action_id, mes.publish_dispatch_list),
        "create_maintenance_order": (
            MaintenanceWorkOrder,
            lambda a: a.action_id,
            mes.create_maintenance_order,
        ),
        "publish_load_plan": (LoadShift, lambda a: a.action_id, mes.publish_load_plan),
    }
    routes = [
        Route("/", api.guarded(api.index), methods=["GET"]),
        Route("/records/{kind}", api.guarded(api.records), methods=["GET"]),
        *(
            Route(path, api.guarded(api.action(*writes[name])), methods=["POST"])
            for path, name in ACTIONS
        ),
    ]
    return Starlette(routes=routes)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _not_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def _aware(text: str | None, name: str) -> datetime:
    if not text:
        raise ValueError(f"give {name} as an ISO 8601 time with an offset")
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{name} must carry a UTC offset, e.g. 2025-01-06T06:00:00+00:00")
    return value


class MesRestServer:
    """Runs an ASGI app with uvicorn in a background thread on host:port (0 = a free port).

    Example::

        with MesRestServer(create_app(mes), port=0) as server:
            async with RestMes(server.url) as client:
                ...
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        start_timeout: float = 10.0,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.on_stop = on_stop
        self.host = host
        self.port = port
        self.start_timeout = start_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> MesRestServer:
        """Bind the port, start serving, and return once requests are answered."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as err:
            sock.close()
            raise ConfigurationError(
                f"cannot serve the MES API on {self.host}:{self.port}: {err}; choose another port"
            ) from err
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, log_level="warning", access_log=False, lifespan="off"
        )
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="mes-rest", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConnectorError(f"the MES API did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.on_stop is not None:
            self.on_stop()
            self.on_stop = None

    def __enter__(self) -> MesRestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_simulated_mes(
    mes_url: str, *, host: str = "127.0.0.1", port: int = 8600, token: str | None = None
) -> MesRestServer:
    """Start serving the simulated MES database at `mes_url` over REST; stop() it when done."""
    from connectors.mes.sql import SqlMes

    mes = SqlMes(mes_url)
    app = create_app(mes, token=token)
    return MesRestServer(app, host=host, port=port, on_stop=mes.close).start()


def main(argv: list[str] | None = None) -> None:
    """Serve an MES database over the REST API until interrupted."""
    parser = argparse.ArgumentParser(description="Serve the simulated MES over REST.")
    parser.add_argument("--mes-url", default="sqlite:///.factory/mes.db", help="SQLAlchemy URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--token", default=None, help="require this bearer token")
    args = parser.parse_args(argv)
    server = serve_simulated_mes(args.mes_url, host=args.host, port=args.port, token=args.token)
    print(f"the MES REST API is on {server.url} (Ctrl-C stops it)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
