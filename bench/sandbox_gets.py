"""The sandbox's own speed: simple GETs per second from one client, one process.

A benchmark of the stand-in rather than of the product, so that the other benchmarks' figures
can be read against what the sandbox itself costs. One keep-alive session reads one contact
by id over and over, over plain HTTP and over HTTPS.

    python -m bench.sandbox_gets [--count 3000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import requests

from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.webapi.context import API_PATH


def gets_per_second(https: bool, count: int) -> float:
    """Read one row ``count`` times through one keep-alive session; the rate."""
    with tempfile.TemporaryDirectory(prefix="bench-gets-") as state, Sandbox(
        SandboxConfig(https=https, state_dir=state)
    ) as sandbox:
        session = requests.Session()
        session.trust_env = False
        session.verify = sandbox.ca_file or True
        session.headers["Authorization"] = f"Bearer {sandbox.auth.issue_token()}"
        created = session.post(
            f"{sandbox.base_url}{API_PATH}contacts", json={"firstname": "Ada", "lastname": "L"}
        )
        url = created.headers["OData-EntityId"]
        session.get(url).raise_for_status()
        started = time.perf_counter()
        for _ in range(count):
            session.get(url)
        rate = count / (time.perf_counter() - started)
        session.close()
        return rate


def main(argv: list[str] | None = None) -> None:
    """Print GETs per second over HTTP and HTTPS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args(argv)
    plain = gets_per_second(False, args.count)
    tls = gets_per_second(True, args.count)
    print(f"sandbox: GET contacts(<id>), one keep-alive session, {args.count} requests")
    print(f"  http   {plain:8.0f} requests/s ({1000 / plain:.2f} ms each)")
    print(f"  https  {tls:8.0f} requests/s ({1000 / tls:.2f} ms each)")


if __name__ == "__main__":
    main()
