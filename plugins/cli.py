"""member-plugins: alumni and member automation for Dynamics 365 / Dataverse.

Administration: register / unregister / status (the Dataverse steps), provision (tables
and columns), deadletters (inspect and replay), settings (every setting). Development:
sandbox (the Dataverse and registry stand-in), serve (the local Functions host over
function_app.py), demo (the whole product against an embedded sandbox). The sandbox and the
host are imported only by their own commands, so a deployed Function App never loads them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from plugins.admin.commands import add_registration_commands
from plugins.admin.deadletters_command import add_deadletter_commands
from plugins.admin.provision_command import add_provision_command
from plugins.dues.cli import add_dues_commands


def _sandbox_command(args: argparse.Namespace) -> int:
    from sandbox.amqp import AmqpPeer
    from sandbox.app import Sandbox
    from sandbox.config import Limits, SandboxConfig
    from sandbox.webapi.context import API_PATH

    seed = json.loads(Path(args.seed).read_text(encoding="utf-8")) if args.seed else None
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        https=args.https,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        limits=Limits.parse(args.limit) if args.limit else Limits(),
        state_dir=args.state_dir,
        provisioned=not args.unprovisioned,
    )
    sandbox = Sandbox(config, seed=seed).start()
    amqp = AmqpPeer(sandbox.servicebus, args.host, args.amqp_port).start()
    print(f"Dataverse sandbox listening on {sandbox.base_url}")
    print(f"  Web API:        {sandbox.base_url}{API_PATH}")
    print(f"  token endpoint: {sandbox.base_url}/{config.tenant_id}/oauth2/v2.0/token")
    print(f"  tenant id:      {config.tenant_id}")
    print(f"  client id:      {config.client_id}")
    print(f"  client secret:  {config.client_secret}")
    print(f"  Service Bus:    Endpoint=sb://{config.host}:{sandbox.base_url.rsplit(':', 1)[1]}"
          "/servicebus/;SharedAccessKeyName=sandbox;SharedAccessKey=sandbox;"
          "UseDevelopmentEmulator=true")
    print(f"  Service Bus over AMQP (azure-servicebus, deadletters): {amqp.connection_string}")
    if sandbox.ca_file:
        print(f"  CA to trust:    {sandbox.ca_file}")
    sys.stdout.flush()
    _wait_for_signal()
    amqp.stop()
    sandbox.stop()
    return 0


def _serve_command(args: argparse.Namespace) -> int:
    from sandbox.host import LocalHost, read_local_settings

    settings = read_local_settings(Path(args.settings)) if Path(args.settings).exists() else {}
    sys.path.insert(0, str(Path(args.app_dir).resolve()))
    host = LocalHost(
        args.app,
        host=args.host,
        port=args.port,
        settings=settings,
        master_key=args.master_key,
        function_keys=None,
    ).start()
    print(f"Functions host listening on {host.base_url}/api/ (app: {args.app})")
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
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--seed", help="JSON seed file (rows and registry people)")
    sandbox.add_argument("--https", action="store_true", help="serve TLS with a generated CA")
    sandbox.add_argument("--state-dir", help="where certificates are written (default: temp)")
    sandbox.add_argument(
        "--amqp-port", type=int, default=5672, help="the Service Bus AMQP peer's port (0 = free)"
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
    serve.add_argument("--port", type=int, default=7071)
    serve.add_argument("--app", default="function_app", help="module holding the FunctionApp")
    serve.add_argument("--app-dir", default=".", help="folder that holds the module")
    serve.add_argument("--settings", default="local.settings.json")
    serve.add_argument("--master-key", help="host key for admin routes and any function")
    serve.set_defaults(run=_serve_command)

    demo = commands.add_parser("demo", help="run the product end to end against the sandbox")
    demo.set_defaults(run=_demo_command)

    settings = commands.add_parser("settings", help="print every setting as a Markdown table")
    settings.set_defaults(run=_settings_command)

    add_registration_commands(commands)
    add_provision_command(commands)
    add_deadletter_commands(commands)
    add_dues_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``member-plugins`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
