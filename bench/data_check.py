"""A data-check run over a register of N people: requests per 1,000 messages, time, memory.

Starts a sandbox in a child process (plain HTTP on 127.0.0.1, request limit lifted so the
run measures round trips, not throttling; in its own process so that its work is not in the
job's time or memory), loads N alumni who never confirmed their details (e-mail chosen,
consented) and a ``data-check`` template with an update link, and runs the
lifecycle job with data checks enabled and a daily cap of ``--cap``: the selection reads the
register, records ``--cap`` events, and the lifecycle run delivers each (contact read in
chunks, a signed link row, the e-mail activity, ``SendEmail``, outcomes in
``UpdateMultiple``). A second run the same day shows what a rerun costs (nothing new is
sent). Printed: Dataverse requests by method and per 1,000 messages, seconds, the peak of
the job's Python heap (``tracemalloc``, which also slows the run: ``--no-memory`` times it
without), and the days a full wave takes at the cap.

    python -m bench.data_check [--count 100000] [--cap 2000] [--no-memory]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from tempfile import TemporaryDirectory
from typing import Any

import requests
from pydantic import SecretStr

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DataverseSettings, SelfServiceSettings, Settings, SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import Category
from plugins.sync.jobs import SyncJobs
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig

SCHEMA = SchemaMap()
NOW = datetime(2025, 6, 23, 2, 0, tzinfo=UTC)
BODY = '<p>Hej {!contact:firstname;}! <a href="{!link:update;}">Check your details</a></p>'


@dataclass(frozen=True)
class Run:
    name: str
    messages: int
    requests: dict[str, int]
    seconds: float
    peak_mib: float

    @property
    def total(self) -> int:
        return sum(self.requests.values())


class _Tokens:
    """Client-credentials tokens from the sandbox's token endpoint (plain HTTP)."""

    def __init__(self, base_url: str, tenant: str, client_id: str, secret: str) -> None:
        self._url = f"{base_url}/{tenant}/oauth2/v2.0/token"
        self._form = {
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": secret, "scope": f"{base_url}/.default",
        }
        self._token: str | None = None

    def token(self, *, force_refresh: bool = False) -> str:
        if self._token is None or force_refresh:
            answer = requests.post(self._url, data=self._form, timeout=30)
            answer.raise_for_status()
            self._token = str(answer.json()["access_token"])
        return self._token


def _settings(cap: int) -> Settings:
    return Settings(
        selfservice=SelfServiceSettings(
            link_keys={"bench": SecretStr("b" * 40)}, link_key_id="bench",
            public_base_url="https://alumni.example.org/api/mypage",
        ),
        sync=SyncSettings(
            lifecycle=SyncSettings.Lifecycle(enabled=True),
            data_check=SyncSettings.DataCheck(enabled=True, daily_cap=cap),
        ),
    )


def _rows(count: int) -> dict[str, list[dict[str, Any]]]:
    c, t = SCHEMA.contact, SCHEMA.template
    alumnus = str(c.category_values[Category.ALUMNUS])
    email = str(SCHEMA.preferences.channel_values["email"])
    contacts = [
        {
            c.first_name: f"Person{n}", c.last_name: "Alumn",
            c.emails[0]: f"person{n}@example.org", c.categories: alumnus, c.channels: email,
            c.consent_on: "2025-01-01T00:00:00Z", c.protection_level: c.protection_values["none"],
        }
        for n in range(count)
    ]
    template = {t.title: "data-check", t.subject: "Your details", t.body: BODY}
    return {SCHEMA.contact.table: contacts, SCHEMA.template.table: [template]}


def _serve(count: int, cap: int, ready: Any, stop: Any) -> None:
    """The child process: a loaded sandbox, served until ``stop`` is set."""
    limits = Limits(requests=50 * (count + cap) + 10_000)
    with TemporaryDirectory(prefix="bench-datacheck-") as state, Sandbox(
        SandboxConfig(limits=limits, state_dir=state), seed={"rows": _rows(count)}
    ) as sandbox:
        config = sandbox.config
        ready.put((sandbox.base_url, config.tenant_id, config.client_id, config.client_secret))
        stop.wait()


def _measure(
    name: str, client: DataverseClient, cap: int, at: datetime, memory: bool
) -> Run:
    client.request_counter.reset()
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    with SyncJobs(_settings(cap), client) as jobs:
        report = jobs.lifecycle(at)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if memory else 0
    tracemalloc.stop()
    sent = report.sent if report is not None else 0
    return Run(name, sent, client.request_counter.by_method(), seconds, peak / 2**20)


def run(count: int, cap: int, memory: bool = True) -> tuple[Run, Run]:
    """(first run of the day, rerun the same day) over ``count`` people with ``cap``."""
    context = multiprocessing.get_context("fork")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=_serve, args=(count, cap, ready, stop), daemon=True)
    server.start()
    try:
        base_url, tenant, client_id, secret = ready.get(timeout=900)
        settings = DataverseSettings(url=base_url)
        tokens = _Tokens(base_url, tenant, client_id, secret)
        with DataverseClient(settings, token_provider=tokens) as client:
            first = _measure("first run of the day", client, cap, NOW, memory)
            rerun = _measure("rerun the same day", client, cap, NOW.replace(hour=9), memory)
    finally:
        stop.set()
        server.join(timeout=60)
    if first.messages != min(cap, count):
        raise RuntimeError(f"expected {min(cap, count)} messages, sent {first.messages}")
    return first, rerun


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="people in the register")
    parser.add_argument("--cap", type=int, default=2_000, help="daily cap (messages per run)")
    parser.add_argument("--no-memory", action="store_true", help="time without tracemalloc")
    args = parser.parse_args(argv)

    first, rerun = run(args.count, args.cap, memory=not args.no_memory)
    print(f"data-check mailings, register of {args.count} alumni, daily cap {args.cap}")
    for result in (first, rerun):
        per_thousand = result.total / result.messages * 1000 if result.messages else 0.0
        print(
            f"  {result.name:<22} {result.messages:>6} messages  Dataverse {result.total:>6} "
            f"requests {result.requests}  {per_thousand:,.0f} per 1,000 messages  "
            f"{result.seconds:7.2f} s"
            + (f"  peak heap {result.peak_mib:,.1f} MiB" if not args.no_memory else "")
        )
    rate = first.messages / first.seconds if first.seconds else 0.0
    days = -(-args.count // args.cap)
    print(f"  {rate:,.0f} messages/s; a full wave of {args.count} takes {days} days at the cap")


if __name__ == "__main__":
    main()
