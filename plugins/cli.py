"""member-plugins: alumni and member automation for Dynamics 365 / Dataverse.

Administration: register / unregister / status (the Dataverse steps), provision (tables
and columns), deadletters (inspect and replay), erase (GDPR erasure for a list), data-check-report
(confirmation rates per cohort), settings (every setting). Development:
sandbox (the Dataverse and registry stand-in), serve (the local Functions host over
function_app.py), demo (the whole product against an embedded sandbox). The sandbox and the
host are imported only by their own commands, so a deployed Function App never loads them.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from plugins.admin.commands import add_registration_commands
from plugins.admin.data_check_command import add_data_check_command
from plugins.admin.deadletters_command import add_deadletter_commands
from plugins.admin.erase_command import add_erase_command
from plugins.admin.errors import one_line
from plugins.admin.provision_command import add_provision_command
from plugins.dues.cli import add_dues_commands


def _sandbox_command(args: argparse.Namespace) -> int:
    from sandbox.amqp import AmqpPeer
    from sandbox.app import Sandbox
    from sandbox.config import Limits, SandboxConfig
    from sandbox.local_settings import local_settings, local_settings_document
    from sandbox.webapi.context import API_PATH

    seed = json.loads(Path(args.seed).read_text(encoding="utf-8")) if args.seed else None
    state_dir = Path(args.state_dir or tempfile.mkdtemp(prefix="member-plugins-sandbox-"))
    state_dir.mkdir(parents=True, exist_ok=True)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        https=args.https,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        limits=Limits.parse(args.limit) if args.limit else Limits(),
        state_dir=str(state_dir),
        provisioned=not args.unprovisioned,
    )
    sandbox = Sandbox(config, seed=seed)
    try:
        _listen(sandbox.start, args.host, args.port, "--port")
        amqp = AmqpPeer(sandbox.servicebus, args.host, args.amqp_port)
        _listen(amqp.start, args.host, args.amqp_port, "--amqp-port")
    except _CannotListen as exc:
        sandbox.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host_port = args.host_port or _free_port(args.host)
    values = local_settings(sandbox, state_dir, host_port)
    print(f"Dataverse sandbox listening on {sandbox.base_url}")
    print(f"  Web API:        {sandbox.base_url}{API_PATH}")
    print(f"  token endpoint: {sandbox.base_url}/{config.tenant_id}/oauth2/v2.0/token")
    print(f"  tenant id:      {config.tenant_id}")
    print(f"  client id:      {config.client_id}")
    print(f"  client secret:  {config.client_secret}")
    print(f"  Service Bus:    {values['ServiceBusConnection']}")
    print(f"  Service Bus over AMQP (azure-servicebus, deadletters): {amqp.connection_string}")
    print(f"  registries:     {sandbox.base_url}/registries/<ladok|fs|navet|spar|folkeregisteret>")
    if sandbox.ca_file:
        print(f"  CA to trust:    {sandbox.ca_file}")
    if args.write_settings:
        document = local_settings_document(values, host_port)
        Path(args.write_settings).write_text(document, encoding="utf-8")
        print(f"  settings:       wrote {args.write_settings} for member-plugins serve")
    else:
        print("local.settings.json for member-plugins serve (or use --write-settings PATH):")
        print(local_settings_document(values, host_port), end="")
    sys.stdout.flush()
    _wait_for_signal()
    amqp.stop()
    sandbox.stop()
    return 0


def _free_port(host: str) -> int:
    """A port nothing listens on now, for a server that starts later."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _CannotListen(Exception):
    """A server could not take its port; ``str()`` is the one line to print."""


def _listen(start: Callable[[], object], host: str, port: int, option: str) -> None:
    """Run a server's ``start``; a port in use becomes :class:`_CannotListen`."""
    try:
        start()
    except (OSError, RuntimeError) as exc:
        reason = "the port is in use" if _in_use(exc) else str(exc)
        raise _CannotListen(
            f"cannot listen on {host}:{port}: {reason} (choose another {option}, "
            "or leave it out for a free port)"
        ) from exc


def _in_use(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE) or (
        isinstance(exc, RuntimeError) and "could not listen" in str(exc)
    )


CA_SETTINGS = (
    "DATAVERSE__CA_BUNDLE",
    *(f"REGISTRIES__{name}__CA_BUNDLE" for name in ("LADOK", "FS", "NAVET", "SPAR",
                                                      "FOLKEREGISTERET")),
)


def _serve_command(args: argparse.Namespace) -> int:
    from sandbox.host import HostError, LocalHost, read_local_settings
    from sandbox.host.config import read_local_http_port

    path = Path(args.settings)
    if not path.is_file():
        print(f"error: no settings file {path} (member-plugins sandbox --write-settings {path} "
              "writes one)", file=sys.stderr)
        return 2
    try:
        settings = read_local_settings(path)
        port = args.port or read_local_http_port(path) or 0
    except (HostError, ValueError) as exc:
        print(f"error: {path}: {one_line(str(exc))}", file=sys.stderr)
        return 2
    ca_file = args.ca_file or settings.get("DATAVERSE__CA_BUNDLE") or None
    if ca_file and not Path(ca_file).is_file():
        print(f"error: no CA file {ca_file}", file=sys.stderr)
        return 2
    if args.ca_file:
        # One CA for everything the sandbox serves: Dataverse, the registries, Service Bus.
        settings = {**dict.fromkeys(CA_SETTINGS, args.ca_file), **settings}
    sys.path.insert(0, str(Path(args.app_dir).resolve()))
    host = LocalHost(
        args.app,
        host=args.host,
        port=port,
        settings=settings,
        master_key=args.master_key,
        function_keys=None,
        servicebus_ca_bundle=ca_file,
    )
    try:
        _listen(host.start, args.host, port, "--port")
    except _CannotListen as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except HostError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    assert host.keys is not None
    print(f"Functions host listening on {host.base_url}/api/ (app: {args.app})")
    print(f"  master key:     {host.keys.master_key}")
    for name, error in host.function_errors.items():
        print(f"  in error:       {name}: {error}")
    sys.stdout.flush()
    _wait_for_signal()
    host.stop()
    return 0


def _demo_command(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo()


def _settings_command(args: argparse.Namespace) -> int:
    from plugins.core.settings_doc import markdown_table

    print(markdown_table())
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per job."""
    parser = argparse.ArgumentParser(prog="member-plugins", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="run the Dataverse + registries sandbox")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0, help="Web API port (default: a free one)")
    sandbox.add_argument("--seed", help="JSON seed file (rows and registry people)")
    sandbox.add_argument("--https", action="store_true", help="serve TLS with a generated CA")
    sandbox.add_argument("--state-dir", help="where certificates are written (default: temp)")
    sandbox.add_argument(
        "--amqp-port", type=int, default=0,
        help="the Service Bus AMQP peer's port (default: a free one)",
    )
    sandbox.add_argument(
        "--host-port", type=int, default=0,
        help="the port member-plugins serve will listen on, written to the settings as "
        "Host.LocalHttpPort and used in the pages' links (default: a free one)",
    )
    sandbox.add_argument(
        "--write-settings", metavar="PATH",
        help="write the local.settings.json for member-plugins serve to PATH (else print it)",
    )
    sandbox.add_argument(
        "--unprovisioned", action="store_true",
        help="start without the product's tables and columns (for member-plugins provision)",
    )
    sandbox.add_argument("--latency-ms", type=int, default=0, help="added to every Web API call")
    sandbox.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of Web API calls answered 429/503/drop"
    )
    sandbox.add_argument(
        "--limit",
        help="service protection, e.g. "
        "requests=6000,window=300,concurrency=52,execution-ms=1200000",
    )
    sandbox.set_defaults(run=_sandbox_command)

    serve = commands.add_parser("serve", help="run function_app.py in the local Functions host")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument(
        "--port", type=int, default=0,
        help="HTTP port (default: the settings' Host.LocalHttpPort, else a free one)",
    )
    serve.add_argument("--app", default="function_app", help="module holding the FunctionApp")
    serve.add_argument("--app-dir", default=".", help="folder that holds the module")
    serve.add_argument("--settings", default="local.settings.json")
    serve.add_argument("--master-key", help="host key for admin routes and any function")
    serve.add_argument(
        "--ca-file",
        help="CA to trust for Dataverse, the registries and Service Bus "
        "(default: DATAVERSE__CA_BUNDLE of the settings)",
    )
    serve.set_defaults(run=_serve_command)

    demo = commands.add_parser("demo", help="run the product end to end against the sandbox")
    demo.set_defaults(run=_demo_command)

    settings = commands.add_parser("settings", help="print every setting as a Markdown table")
    settings.set_defaults(run=_settings_command)

    add_registration_commands(commands)
    add_provision_command(commands)
    add_deadletter_commands(commands)
    add_erase_command(commands)
    add_data_check_command(commands)
    add_dues_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``member-plugins`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
