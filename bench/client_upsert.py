"""Upsert N contacts by alternate key: one PATCH per row vs UpsertMultiple in chunks.

Starts a sandbox in-process (HTTPS, token through msal, a few ms of injected latency per
Web API request, like a network round trip), runs the same workload both ways through
:class:`~plugins.dataverse.client.DataverseClient` and prints the requests used, the wall
time and the ratios.

Dataverse's request limit (6000 per user per 300 s) is lifted in the sandbox here so the
one-at-a-time run measures round trips, not throttling; against a real environment 10,000
single PATCHes would also run into that limit.

    python -m bench.client_upsert [--count 10000] [--chunk-size 1000] [--parallelism 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from plugins.core.schema import product_schema
from plugins.core.settings import DataverseSettings
from plugins.dataverse.auth import MsalTokenProvider
from plugins.dataverse.client import DataverseClient
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig

CONTACT = product_schema().table("contact")
KEY = "mp_nationalid"


@dataclass(frozen=True)
class Run:
    """The outcome of one way of doing the workload."""

    name: str
    requests: int
    seconds: float


def _settings(sandbox: Sandbox, chunk_size: int, parallelism: int) -> DataverseSettings:
    config = sandbox.config
    return DataverseSettings(
        url=sandbox.base_url,
        tenant_id=config.tenant_id,
        client_id=config.client_id,
        client_secret=config.client_secret,
        authority_host=sandbox.base_url,
        ca_bundle=sandbox.ca_file,
        bulk_chunk_size=chunk_size,
        bulk_parallelism=parallelism,
    )


def _rows(prefix: str, count: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    return [
        ({KEY: f"{prefix}-{i:06d}"}, {"firstname": f"Bench{i}", "lastname": prefix})
        for i in range(count)
    ]


def _measure(name: str, client: DataverseClient, work: Callable[[], None]) -> Run:
    client.request_counter.reset()
    started = time.perf_counter()
    work()
    return Run(name, client.request_counter.total, time.perf_counter() - started)


def run(count: int, chunk_size: int, parallelism: int, latency_ms: int) -> tuple[Run, Run]:
    """Both runs against a fresh sandbox; returns (one PATCH per row, UpsertMultiple)."""
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as state:
        config = SandboxConfig(
            https=True,
            state_dir=state,
            latency_ms=latency_ms,
            limits=Limits(requests=10 * count + 1000),
        )
        with Sandbox(config) as sandbox:
            settings = _settings(sandbox, chunk_size, parallelism)
            with DataverseClient(settings, token_provider=MsalTokenProvider(settings)) as client:
                client.get("systemusers", sandbox.auth.application_user_id)  # token, TLS warm-up
                single_rows = _rows("single", count)
                bulk_rows = _rows("bulk", count)

                def one_by_one() -> None:
                    for key, record in single_rows:
                        client.upsert(CONTACT, key, record)

                single = _measure("one PATCH per row", client, one_by_one)
                bulk = _measure(
                    f"UpsertMultiple x{chunk_size}, {parallelism} in flight",
                    client,
                    lambda: client.upsert_multiple(CONTACT, bulk_rows),
                )
                stored = len(sandbox.store.rows("contact"))
    if stored != 2 * count:
        raise RuntimeError(f"expected {2 * count} contacts in the sandbox, found {stored}")
    return single, bulk


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="contacts per run")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--latency-ms", type=int, default=3, help="injected per request")
    args = parser.parse_args(argv)

    single, bulk = run(args.count, args.chunk_size, args.parallelism, args.latency_ms)
    print(f"upsert {args.count} contacts by alternate key, {args.latency_ms} ms latency")
    for result in (single, bulk):
        rate = args.count / result.seconds if result.seconds else float("inf")
        print(
            f"  {result.name:<34} {result.requests:>6} requests  "
            f"{result.seconds:8.2f} s  {rate:9.0f} rows/s"
        )
    print(
        f"  ratio: {single.requests / max(bulk.requests, 1):.0f}x fewer requests, "
        f"{single.seconds / bulk.seconds:.1f}x faster"
    )


if __name__ == "__main__":
    main()
