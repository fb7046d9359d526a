"""Register upkeep in batches at growing register sizes, one PATCH per contact beside it,
and lifecycle scheduling.

For each ``--counts`` size a sandbox starts in this process (plain HTTP on 127.0.0.1),
seeded in bulk: N stale contacts straight into its store, every person known to its
Folkeregisteret emulator (bulk rights package: 100 people per registry request). The
contacts are then refreshed by :class:`~plugins.sync.upkeep.RegisterUpkeep` with the
product's default batch size (one ``UpdateMultiple`` per batch) in a spawned child process,
so the peak memory printed is the upkeep's own (its highest resident size above what it was
before the run), not the sandbox's rows. For comparison, a sample of contacts is refreshed
with one ``PATCH`` per contact; its figures are extrapolated linearly (what one request per
contact gives). Dataverse's request limit is lifted in the sandbox so the per-contact run
measures round trips, not throttling; against a real environment 100,000 single PATCHes
would also run into the limit of 6,000 requests per 5 minutes.

The sandbox keeps its rows in memory without indexes: every page it serves filters the
whole table (and sorts it again after writes), so its serving time per page grows with the
register and over a run with its square; Dataverse answers such a page from its index. The
time the sandbox spent serving reads and writes is printed beside each run, so the upkeep's
own share of the wall time can be told apart.

Then the pure lifecycle scheduling step is timed for the first size's number of memberships.

    python -m bench.upkeep [--counts 100000 1000000] [--sample 2000] [--batch-size N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from stdnum.no import fodselsnummer

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DataverseSettings, RegistrySettings, SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registries.factory import build_adapters
from plugins.registries.models import RegistryName
from plugins.sync.enrichment import enrichment_patch
from plugins.sync.lifecycle import (
    LifecycleRules,
    Membership,
    MembershipStatus,
    catch_up_window,
    schedule,
)
from plugins.sync.repository import MappedTable, Tombstones
from plugins.sync.upkeep import RegisterUpkeep
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig

from .child import StaticToken, peak_kib, rss_kib

SCHEMA = SchemaMap()
CONTACTS = MappedTable.of(SCHEMA.contact)
NOW = datetime(2025, 6, 23, 1, 0, tzinfo=UTC)
SEED_CHUNK = 10_000


@dataclass(frozen=True)
class Run:
    name: str
    contacts: int
    dataverse_requests: dict[str, int]
    registry_requests: int
    seconds: float
    memory_before_mib: float
    memory_peak_mib: float
    sandbox_reads_s: float = 0.0
    sandbox_writes_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.dataverse_requests.values())

    @property
    def per_100k(self) -> float:
        return self.total / self.contacts * 100_000

    @property
    def memory_growth_mib(self) -> float:
        return self.memory_peak_mib - self.memory_before_mib


def norwegian_numbers(count: int) -> Iterator[str]:
    """``count`` distinct valid fødselsnumre (born 1950-1999), made as they are taken."""
    index = made = 0
    while made < count:
        born = date(1950, 1, 1) + timedelta(days=index % 18000)
        base = born.strftime("%d%m%y") + f"{index // 18000 % 500:03d}"
        index += 1
        first = fodselsnummer.calc_check_digit1(base)
        if len(first) != 1:
            continue
        second = fodselsnummer.calc_check_digit2(base + first)
        if len(second) == 1:
            made += 1
            yield base + first + second


def _person(position: int) -> dict[str, Any]:
    """Every 50th person protected, every 97th deceased, the others at one address."""
    person: dict[str, Any] = {"first_name": f"Person{position}", "last_name": "Nordmann"}
    if position % 50 == 0:
        person["protection"] = "protected"
    else:
        person["addresses"] = [{"kind": "registered", "lines": ["Storgata 1"],
                                "postal_code": "0155", "city": "OSLO"}]
    if position % 97 == 0:
        person["deceased_on"] = "2024-01-01"
    return person


@contextmanager
def _seeded(count: int) -> Iterator[tuple[Sandbox, RegistrySettings]]:
    """A started sandbox holding ``count`` stale contacts the registry knows, and the
    registry settings that reach it."""
    limits = Limits(requests=10 * count + 10_000)
    with TemporaryDirectory(prefix="bench-upkeep-") as state, Sandbox(
        SandboxConfig(limits=limits, state_dir=state)
    ) as sandbox:
        numbers = norwegian_numbers(count)
        position = 0
        while chunk := list(islice(numbers, SEED_CHUNK)):
            sandbox.registries.load_seed(
                {"folkeregisteret": {n: _person(position + i) for i, n in enumerate(chunk)}}
            )
            sandbox.load_seed({"rows": {"contact": [
                {"firstname": "Old", "lastname": "Name", "mp_nationalid": n} for n in chunk
            ]}})
            position += len(chunk)
        registries = sandbox.registries.client_settings(Path(state) / "maskinporten.pem")
        sandbox.registries.reset_stats()
        yield sandbox, RegistrySettings(
            http=registries.http, folkeregisteret=registries.folkeregisteret
        )


def refresh(
    base_url: str, token: str, registries: RegistrySettings, count: int,
    batch_size: int | None, per_contact: bool,
) -> Run:
    """Refresh every stale contact once (in the child process); the run's figures."""
    registry = build_adapters(registries)[RegistryName.FOLKEREGISTERET]
    upkeep_settings = SyncSettings.Upkeep(enabled=True, max_contacts_per_run=count)
    if batch_size is not None:
        upkeep_settings = upkeep_settings.model_copy(update={"batch_size": batch_size})
    size = upkeep_settings.batch_size
    dataverse = DataverseSettings(url=base_url, bulk_chunk_size=size)
    with DataverseClient(dataverse, token_provider=StaticToken(token)) as client:
        upkeep = RegisterUpkeep(
            client, SCHEMA.contact, Tombstones(client, SCHEMA.tombstone), registry,
            upkeep_settings, "b" * 32,
        )
        before = rss_kib()
        started = time.perf_counter()
        if per_contact:
            _per_contact(client, upkeep, registry)
        else:
            upkeep.run(NOW)
        seconds = time.perf_counter() - started
        peak = peak_kib()
        requests = client.request_counter.by_method()
    registry.close()
    name = "one PATCH per contact" if per_contact else f"UpdateMultiple x{size}"
    return Run(name, count, requests, 0, seconds, before / 1024, peak / 1024)


def _per_contact(client: DataverseClient, upkeep: RegisterUpkeep, registry: Any) -> None:
    """The same refresh with one PATCH per contact (the comparison)."""
    c = SCHEMA.contact
    rows = list(upkeep.stale_contacts(NOW))
    people = registry.lookup_many([str(row[c.national_id]) for row in rows])
    for row in rows:
        patch = enrichment_patch(people.get(str(row[c.national_id])), row, NOW, c)
        client.update(CONTACTS, str(row[c.id]), patch)


def run_upkeep(count: int, batch_size: int | None, per_contact: bool = False) -> Run:
    """Seed a sandbox with ``count`` stale contacts and refresh them from a child process."""
    with _seeded(count) as (sandbox, registries):
        sandbox.request_log.clear()
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            run = pool.apply(
                refresh,
                (sandbox.base_url, sandbox.auth.issue_token(lifetime_seconds=4 * 3600),
                 registries, count, batch_size, per_contact),
            )
        registry = sandbox.registries.stats()["folkeregisteret"]["requests"]
        served = sandbox.request_log.entries()
        stamped = sum(
            1 for row in sandbox.store.rows("contact") if row.values.get("mp_lastenrichedon")
        )
    if stamped != count:
        raise RuntimeError(f"expected {count} refreshed contacts, found {stamped}")
    return Run(run.name, run.contacts, run.dataverse_requests, registry, run.seconds,
               run.memory_before_mib, run.memory_peak_mib,
               sum(e.duration_ms for e in served if e.method == "GET") / 1000,
               sum(e.duration_ms for e in served if e.method != "GET") / 1000)


def time_scheduling(count: int) -> tuple[float, int]:
    """Seconds the pure scheduling step takes for ``count`` memberships, and events found."""
    rng = random.Random(6)
    memberships = []
    births = {}
    for index in range(count):
        start = date(2000, 1, 1) + timedelta(days=rng.randrange(9300))
        end = None if index % 10 == 0 else start + timedelta(days=365 * rng.randrange(1, 30))
        person = f"{index:08d}-0000-4000-8000-000000000000"
        memberships.append(
            Membership(str(index), person, "standard", start, end, MembershipStatus.ACTIVE,
                       index % 3 == 0, index % 6 == 0)
        )
        births[person] = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    rules = LifecycleRules()
    window = catch_up_window(date(2025, 6, 20), date(2025, 6, 23), rules)
    started = time.perf_counter()
    plan = schedule(memberships, window, rules, birth_dates=births)
    return time.perf_counter() - started, len(plan.events)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100_000],
                        help="register sizes (contacts; memberships for scheduling)")
    parser.add_argument("--sample", type=int, default=2_000, help="contacts updated one by one")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="contacts per batch (default: the product's)")
    args = parser.parse_args(argv)

    single = run_upkeep(args.sample, args.batch_size, per_contact=True)
    runs = [run_upkeep(count, args.batch_size) for count in args.counts]
    print("register upkeep, Folkeregisteret emulator (bulk look-up, 100 per request); "
          "memory is the upkeep process's own")
    for result in (single, *runs):
        print(
            f"  {result.name:<22} {result.contacts:>9,} contacts  Dataverse {result.total:>7,} "
            f"requests {result.dataverse_requests} = {result.per_100k:>9,.1f} per 100,000  "
            f"registry {result.registry_requests:>6,}  {result.seconds:8.2f} s  "
            f"memory +{result.memory_growth_mib:.1f} MiB "
            f"(peak {result.memory_peak_mib:.1f} MiB)  sandbox serving reads "
            f"{result.sandbox_reads_s:.1f} s, writes {result.sandbox_writes_s:.1f} s"
        )
    for bulk in runs:
        scale = bulk.contacts / single.contacts
        print(
            f"  {bulk.contacts:,} contacts: {single.total * scale / bulk.total:,.0f}x fewer "
            f"requests and {single.seconds * scale / bulk.seconds:.1f}x faster than one PATCH "
            f"per contact extrapolated (~{single.total * scale:,.0f} requests, "
            f"~{single.seconds * scale:,.0f} s)"
        )
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        print(
            f"  {large.contacts:,} vs {small.contacts:,} contacts "
            f"(x{large.contacts / small.contacts:.0f}): memory growth "
            f"x{large.memory_growth_mib / small.memory_growth_mib:.2f}, requests per 100,000 "
            f"x{large.per_100k / small.per_100k:.2f}, time x{large.seconds / small.seconds:.1f}"
        )
    seconds, events = time_scheduling(args.counts[0])
    print(
        f"lifecycle scheduling (pure step): {args.counts[0]} memberships, 4-day window, "
        f"{events} events due, {seconds:.3f} s"
    )


if __name__ == "__main__":
    main()
