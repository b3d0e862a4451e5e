"""`factory-agents opcua`: browse, read and watch any OPC UA server; create client certificates.

Security comes from options or the FACTORY_OPCUA_* variables: `--policy Basic256Sha256 --cert
client.der --key client.pem --trust pki/trusted` (SignAndEncrypt by default), `--user NAME`
with the password from a prompt, FACTORY_OPCUA_PASSWORD or `--password-stdin`, or an X509
user identity with `--user-cert` and `--user-key`. A server without security is refused
unless `--allow-none` says it is meant (e.g. the simulator).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from factory_agents.errors import ConfigurationError
from factory_agents.settings import Settings

if TYPE_CHECKING:
    from connectors.opcua.connector import OpcUaConnector
    from connectors.opcua.security import OpcUaSecurity

opcua_app = typer.Typer(
    help="OPC UA: browse, read and watch any server; create client certificates.",
    no_args_is_help=True,
)
certs_app = typer.Typer(help="Client application certificates.", no_args_is_help=True)
opcua_app.add_typer(certs_app, name="certs")
console = Console(soft_wrap=True)
_T = TypeVar("_T")

Url = Annotated[str, typer.Argument(help="The server's endpoint, opc.tcp://host:port/path")]
NodeIds = Annotated[
    list[str], typer.Argument(help="NodeIds such as 'ns=2;s=Line1.GoodCount' or 'i=2258'")
]
PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy",
        envvar="FACTORY_OPCUA_POLICY",
        help="Basic256Sha256 or Aes256_Sha256_RsaPss (default with --cert: Basic256Sha256)",
    ),
]
ModeOption = Annotated[
    str | None,
    typer.Option("--mode", envvar="FACTORY_OPCUA_MODE", help="SignAndEncrypt (default) or Sign"),
]
CertOption = Annotated[
    Path | None,
    typer.Option("--cert", envvar="FACTORY_OPCUA_CERTIFICATE", help="Client certificate file"),
]
KeyOption = Annotated[
    Path | None,
    typer.Option("--key", envvar="FACTORY_OPCUA_PRIVATE_KEY", help="Client private key file"),
]
TrustOption = Annotated[
    Path | None,
    typer.Option(
        "--trust",
        envvar="FACTORY_OPCUA_TRUST_FOLDER",
        help="Folder of trusted server certificates (or their CAs)",
    ),
]
UserOption = Annotated[
    str | None,
    typer.Option(
        "--user",
        envvar="FACTORY_OPCUA_USER",
        help="Log in as this user; the password comes from a prompt, FACTORY_OPCUA_PASSWORD"
        " or --password-stdin",
    ),
]
UserCertOption = Annotated[
    Path | None,
    typer.Option(
        "--user-cert",
        envvar="FACTORY_OPCUA_USER_CERTIFICATE",
        help="Log in with this X509 user certificate (with --user-key) instead of a password",
    ),
]
UserKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--user-key", envvar="FACTORY_OPCUA_USER_PRIVATE_KEY", help="The user certificate's key"
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin"),
]
AllowNone = Annotated[
    bool,
    typer.Option(
        "--allow-none",
        envvar="FACTORY_OPCUA_ALLOW_NONE",
        help="Allow a server without security (mode None), e.g. the local simulator",
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for each answer", min=0.1)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _security(
    policy: str | None,
    mode: str | None,
    cert: Path | None,
    key: Path | None,
    trust: Path | None,
    user: str | None,
    password_stdin: bool,
    allow_none: bool,
    user_cert: Path | None = None,
    user_key: Path | None = None,
) -> OpcUaSecurity:
    """The OpcUaSecurity the options describe, or ConfigurationError saying what is missing."""
    from connectors.opcua.security import OpcUaSecurity

    fields: dict[str, object] = {"allow_none": allow_none}
    if policy is None:
        policy = "Basic256Sha256" if cert is not None or key is not None else "None"
    fields["policy"] = policy
    if mode is not None:
        fields["mode"] = mode
    for name, value in (("certificate", cert), ("private_key", key), ("trust_folder", trust)):
        if value is not None:
            fields[name] = value
    if user is not None:
        fields["user"] = user
        fields["password"] = _password(user, password_stdin)
    if user_cert is not None or user_key is not None:
        fields["user_certificate"] = user_cert
        fields["user_private_key"] = user_key
    return OpcUaSecurity.build(**fields)


def _password(user: str, from_stdin: bool) -> str:
    """The password of `user`: stdin's first line, FACTORY_OPCUA_PASSWORD, or a hidden prompt."""
    if from_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise ConfigurationError(
                'no password on stdin; pipe one line in, e.g. `echo "$PW" | ... --password-stdin`'
            )
        return password
    from_env = os.environ.get("FACTORY_OPCUA_PASSWORD")
    if from_env:
        return from_env
    typed: str = typer.prompt(f"Password for {user}", hide_input=True)
    return typed


def _run(
    url: str,
    security: OpcUaSecurity,
    timeout: float,
    body: Callable[[OpcUaConnector], Awaitable[_T]],
) -> _T:
    """Connect, run `body` with the connector, disconnect; Ctrl-C stops quietly."""
    from connectors.opcua.connector import OpcUaConnector

    async def main() -> _T:
        async with OpcUaConnector(url, security=security, timeout=timeout) as connector:
            return await body(connector)

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        console.print("stopped")
        raise typer.Exit(130) from None


@opcua_app.command("browse")
def browse(
    url: Url,
    root: Annotated[str, typer.Option("--root", help="Where to start")] = "i=85",
    depth: Annotated[int, typer.Option("--depth", help="Levels below the root", min=1)] = 2,
    max_nodes: Annotated[int, typer.Option("--max-nodes", help="Stop after this many", min=1)] = (
        5000
    ),
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    mode: ModeOption = None,
    cert: CertOption = None,
    key: KeyOption = None,
    trust: TrustOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdin = False,
    user_cert: UserCertOption = None,
    user_key: UserKeyOption = None,
    allow_none: AllowNone = False,
    timeout: TimeoutOption = 10.0,
) -> None:
    """The nodes under a root: id, name, class, data type, unit, EURange and access level."""
    security = _security(
        policy, mode, cert, key, trust, user, password_stdin, allow_none, user_cert, user_key
    )
    nodes, truncated = _run(
        url, security, timeout, lambda plant: plant.browse(root, depth, max_nodes=max_nodes)
    )
    if as_json:
        print(json.dumps({"nodes": [n.model_dump() for n in nodes], "truncated": truncated}))
        return
    table = Table("node id", "browse name", "class", "data type", "unit", "range", "access")
    for node in nodes:
        low_high = f"{node.eu_range[0]:g} .. {node.eu_range[1]:g}" if node.eu_range else ""
        indent = "  " * (node.depth - 1)
        table.add_row(
            indent + node.node_id,
            node.browse_name,
            node.node_class,
            node.data_type or "",
            node.unit or "",
            low_high,
            ", ".join(node.user_access or node.access),
        )
    console.print(table)
    if truncated:
        console.print(f"[yellow]stopped after {max_nodes} nodes; use --root or --max-nodes[/]")


@opcua_app.command("read")
def read(
    url: Url,
    node_ids: NodeIds,
    as_json: JsonOption = False,
    policy: PolicyOption = None,
    mode: ModeOption = None,
    cert: CertOption = None,
    key: KeyOption = None,
    trust: TrustOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdin = False,
    user_cert: UserCertOption = None,
    user_key: UserKeyOption = None,
    allow_none: AllowNone = False,
    timeout: TimeoutOption = 10.0,
) -> None:
    """Current values of some nodes, with status and source time."""
    security = _security(
        policy, mode, cert, key, trust, user, password_stdin, allow_none, user_cert, user_key
    )
    values = _run(url, security, timeout, lambda plant: plant.read_values(node_ids))
    if as_json:
        print(json.dumps([v.model_dump(mode="json") for v in values]))
        return
    table = Table("node id", "value", "type", "status", "source time (UTC)")
    for value in values:
        stamp = value.source_time or value.server_time
        table.add_row(
            value.node_id,
            value.text,
            value.data_type,
            _status_markup(value.status, value.quality.value),
            stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if stamp else "",
        )
    console.print(table)


@opcua_app.command("watch")
def watch(
    url: Url,
    node_ids: NodeIds,
    count: Annotated[
        int | None, typer.Option("--count", help="Stop after this many updates", min=1)
    ] = None,
    seconds: Annotated[
        float | None, typer.Option("--seconds", help="Stop after this many seconds", min=0.1)
    ] = None,
    interval: Annotated[
        float, typer.Option("--interval", help="Sampling and publishing interval, s", min=0.01)
    ] = 0.5,
    queue_size: Annotated[
        int, typer.Option("--queue-size", help="Values the server queues per node", min=1)
    ] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    policy: PolicyOption = None,
    mode: ModeOption = None,
    cert: CertOption = None,
    key: KeyOption = None,
    trust: TrustOption = None,
    user: UserOption = None,
    password_stdin: PasswordStdin = False,
    user_cert: UserCertOption = None,
    user_key: UserKeyOption = None,
    allow_none: AllowNone = False,
    timeout: TimeoutOption = 10.0,
) -> None:
    """Print value changes as they come (until Ctrl-C, --count or --seconds)."""
    from connectors.opcua.subscription import QueuePolicy

    security = _security(
        policy, mode, cert, key, trust, user, password_stdin, allow_none, user_cert, user_key
    )
    queue = QueuePolicy(sampling_interval=interval, server_queue_size=queue_size)

    async def body(plant: OpcUaConnector) -> int:
        shown = 0
        deadline = time.monotonic() + seconds if seconds is not None else None
        async with await plant.subscribe(
            node_ids, queue=queue, publishing_interval=interval
        ) as subscription:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(_loop_deadline(deadline)):
                    async for update in subscription:
                        _show(update, as_json)
                        shown += 1
                        if count is not None and shown >= count:
                            break
        return shown

    _run(url, security, timeout, body)


def _loop_deadline(deadline: float | None) -> float | None:
    """A time.monotonic() deadline on the running loop's clock."""
    if deadline is None:
        return None
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


def _show(update: Any, as_json: bool) -> None:
    """Print one TagUpdate."""
    sample = update.sample
    numeric = not math.isnan(sample.value)
    text = f"{sample.value:g}" if numeric else ("" if update.raw is None else str(update.raw))
    flags = [flag for flag in ("stale", "replayed") if getattr(update, flag)]
    if as_json:
        print(
            json.dumps(
                {
                    "node_id": sample.tag,
                    "value": sample.value if numeric else None,
                    "text": text,
                    "quality": sample.quality.value,
                    "source_time": sample.source_time.isoformat(),
                    "stale": update.stale,
                    "replayed": update.replayed,
                }
            ),
            flush=True,
        )
        return
    stamp = sample.source_time.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]
    marks = f" [{', '.join(flags)}]" if flags else ""
    quality = _status_markup(sample.quality.value, sample.quality.value)
    console.print(f"{stamp}  {sample.tag}  {text}  {quality}{marks}")


def _status_markup(text: str, quality: str) -> str:
    colour = {"good": "green", "uncertain": "yellow"}.get(quality, "red")
    return f"[{colour}]{text}[/{colour}]"


@certs_app.command("create")
def certs_create(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the files (default: FACTORY_HOME/pki/own)"),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="File names: NAME.der, NAME.pem")] = "client",
    application_uri: Annotated[
        str, typer.Option("--application-uri", help="This client's OPC UA application URI")
    ] = "urn:factory-agents:client",
    hosts: Annotated[
        list[str] | None,
        typer.Option("--host", help="Host name or IP address it runs on; repeat for several"),
    ] = None,
    days: Annotated[float, typer.Option("--days", help="Validity in days", min=1)] = 365.0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing files")] = False,
) -> None:
    """Create a self-signed client certificate (DER) and private key (PEM) for OPC UA."""
    from connectors.opcua.certs import create_application_certificate
    from connectors.opcua.security import load_certificate, thumbprint

    folder = out or Settings().home / "pki" / "own"
    pair = create_application_certificate(
        folder,
        application_uri=application_uri,
        host_names=hosts or (),
        name=name,
        validity_days=days,
        overwrite=overwrite,
    )
    certificate = load_certificate(pair.certificate, "certificate")
    console.print(f"certificate  {pair.certificate}")
    console.print(f"private key  {pair.private_key} (readable by you only)")
    console.print(f"application  {pair.application_uri}")
    console.print(f"valid until  {pair.not_valid_after:%Y-%m-%d} (SHA-1 {thumbprint(certificate)})")
    console.print(
        "Give the certificate to the server's administrator to trust, and put the server's"
        " certificate in your --trust folder."
    )
